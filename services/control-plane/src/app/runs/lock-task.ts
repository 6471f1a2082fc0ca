import type { EntityManager } from 'typeorm';
import { NotFoundError } from '../../domain/errors.js';
import { TaskEntity } from '../../persistence/entities/task.entity.js';

/**
 * Loads a task of the organisation and locks its row (FOR UPDATE) for the caller's transaction:
 * every decision on a task's status is taken under this lock. Another organisation's task is
 * "not found", never "forbidden".
 */
export async function lockTaskOfOrg(
  manager: EntityManager,
  orgId: string,
  taskId: string,
): Promise<TaskEntity> {
  const task = await manager
    .getRepository(TaskEntity)
    .createQueryBuilder('task')
    .setLock('pessimistic_write')
    .where('task.id = :taskId AND task.org_id = :orgId', { taskId, orgId })
    .getOne();
  if (!task) throw new NotFoundError('task', taskId);
  return task;
}
