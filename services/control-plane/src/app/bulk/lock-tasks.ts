import type { EntityManager } from 'typeorm';
import { TaskEntity } from '../../persistence/entities/task.entity.js';

/**
 * Locks (FOR UPDATE) the tasks of the organisation among `taskIds` in one statement, in id order
 * (the order two bulk calls over the same tasks must share so as not to deadlock), and returns them
 * by lower-case id. Ids of missing tasks and of another organisation's are simply absent.
 */
export async function lockTasksOfOrg(
  manager: EntityManager,
  orgId: string,
  taskIds: readonly string[],
): Promise<Map<string, TaskEntity>> {
  const tasks = await manager
    .getRepository(TaskEntity)
    .createQueryBuilder('task')
    .setLock('pessimistic_write')
    .where('task.id IN (:...taskIds) AND task.org_id = :orgId', { taskIds, orgId })
    .orderBy('task.id')
    .getMany();
  return new Map(tasks.map((task) => [task.id.toLowerCase(), task]));
}
