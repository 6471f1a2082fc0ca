import type { ListTasksQuery, Task, TaskList } from '@meridian/contracts/api/task';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { NotFoundError } from '../domain/errors.js';
import { TaskEventEntity } from '../persistence/entities/task-event.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { toTaskDto, toTaskEventDto } from '../persistence/mappers.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

export async function listTasks(deps: AppDeps, actor: Actor, query: ListTasksQuery): Promise<TaskList> {
  const builder = deps.dataSource
    .getRepository(TaskEntity)
    .createQueryBuilder('task')
    .where('task.org_id = :orgId', { orgId: actor.orgId });
  if (query.status) builder.andWhere('task.status = :status', { status: query.status });
  if (query.type) builder.andWhere('task.type = :type', { type: query.type });
  if (query.targetId) builder.andWhere('task.target_id = :targetId', { targetId: query.targetId });
  if (query.nodeId) builder.andWhere('task.node_id = :nodeId', { nodeId: query.nodeId });
  const direction = query.order === 'asc' ? 'ASC' : 'DESC';
  builder
    .orderBy(query.sort === 'status' ? 'task.status' : 'task.created_at', direction)
    .addOrderBy('task.id', direction)
    .skip((query.page - 1) * query.limit)
    .take(query.limit);
  const [rows, total] = await builder.getManyAndCount();
  return { items: rows.map(toTaskDto), page: query.page, limit: query.limit, total };
}

/** Loads a task of the caller's organisation; any other task is "not found", never "forbidden". */
export async function findTaskOfOrg(deps: AppDeps, actor: Actor, taskId: string): Promise<TaskEntity> {
  const task = await deps.dataSource.getRepository(TaskEntity).findOneBy({ id: taskId, orgId: actor.orgId });
  if (!task) throw new NotFoundError('task', taskId);
  return task;
}

export async function getTask(deps: AppDeps, actor: Actor, taskId: string): Promise<Task> {
  return toTaskDto(await findTaskOfOrg(deps, actor, taskId));
}

export async function listTaskEvents(deps: AppDeps, actor: Actor, taskId: string): Promise<TaskEvent[]> {
  await findTaskOfOrg(deps, actor, taskId);
  const events = await deps.dataSource
    .getRepository(TaskEventEntity)
    .find({ where: { taskId, orgId: actor.orgId }, order: { id: 'ASC' } });
  return events.map(toTaskEventDto);
}
