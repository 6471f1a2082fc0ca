import type { EntityManager } from 'typeorm';
import {
  RECENT_OCCURRENCES,
  type ListRecurringTasksQuery,
  type RecurringOccurrence,
  type RecurringTask,
  type RecurringTaskList,
} from '@meridian/contracts/api/recurring';
import { NotFoundError } from '../../domain/errors.js';
import { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import { recentOccurrences } from '../../persistence/recurring-tasks.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';

export async function listRecurringTasks(
  deps: AppDeps,
  actor: Actor,
  query: ListRecurringTasksQuery,
): Promise<RecurringTaskList> {
  const builder = deps.dataSource
    .getRepository(RecurringTaskEntity)
    .createQueryBuilder('recurring')
    .where('recurring.org_id = :orgId', { orgId: actor.orgId });
  if (query.enabled !== undefined)
    builder.andWhere('recurring.enabled = :enabled', { enabled: query.enabled });
  const [rows, total] = await builder
    .orderBy('recurring.created_at', 'DESC')
    .addOrderBy('recurring.id', 'DESC')
    .skip((query.page - 1) * query.limit)
    .take(query.limit)
    .getManyAndCount();
  const occurrences = await recentOccurrences(
    deps.dataSource.manager,
    rows.map((row) => row.id),
    RECENT_OCCURRENCES,
  );
  return {
    items: rows.map((row) => toRecurringTaskDto(row, occurrences.get(row.id) ?? [])),
    page: query.page,
    limit: query.limit,
    total,
  };
}

/** A recurring task of the caller's organisation; any other is "not found". */
export async function getRecurringTask(deps: AppDeps, actor: Actor, id: string): Promise<RecurringTask> {
  const row = await deps.dataSource.getRepository(RecurringTaskEntity).findOneBy({ id, orgId: actor.orgId });
  if (!row) throw new NotFoundError('recurring task', id);
  return withOccurrences(deps.dataSource.manager, row);
}

export async function withOccurrences(
  manager: EntityManager,
  row: RecurringTaskEntity,
): Promise<RecurringTask> {
  const occurrences = await recentOccurrences(manager, [row.id], RECENT_OCCURRENCES);
  return toRecurringTaskDto(row, occurrences.get(row.id) ?? []);
}

function toRecurringTaskDto(row: RecurringTaskEntity, recent: RecurringOccurrence[]): RecurringTask {
  return {
    id: row.id,
    orgId: row.orgId,
    name: row.name,
    description: row.description,
    type: row.type,
    targetType: row.targetType,
    targetId: row.targetId,
    nodeId: row.nodeId,
    payload: row.payload,
    metadata: row.metadata,
    priority: row.priority,
    timeoutSeconds: row.timeoutSeconds,
    maxRetries: row.maxRetries,
    retryPolicy: row.retryPolicy,
    schedule: row.schedule,
    timezone: row.timezone,
    enabled: row.enabled,
    overlap: row.overlap,
    misfire: row.misfire,
    nextRunAt: row.nextRunAt?.toISOString() ?? null,
    lastRunAt: row.lastRunAt?.toISOString() ?? null,
    lastTaskId: row.lastTaskId,
    recentOccurrences: recent,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
