import type {
  Batch,
  BatchEventList,
  BatchList,
  BatchSummary,
  BatchTask,
  ListBatchesQuery,
} from '@meridian/contracts/api/batch';
import { NotFoundError } from '../../domain/errors.js';
import { isActive } from '../../domain/batch-saga.js';
import {
  findBatch,
  listBatchRows,
  loadBatchTasks,
  type BatchRow,
  type BatchTasks,
} from '../../persistence/batch-snapshot.reads.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function toSummary(row: BatchRow): BatchSummary {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    failurePolicy: row.failure_policy,
    createdBy: row.created_by,
    correlationId: row.correlation_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: iso(row.finished_at),
  };
}

export async function listBatches(deps: AppDeps, actor: Actor, query: ListBatchesQuery): Promise<BatchList> {
  const { rows, total } = await listBatchRows(deps.dataSource.manager, actor.orgId, {
    status: query.status,
    offset: (query.page - 1) * query.limit,
    limit: query.limit,
  });
  return { items: rows.map(toSummary), page: query.page, limit: query.limit, total };
}

/** The batch with its DAG; another organisation's batch is "not found". */
export async function getBatch(deps: AppDeps, actor: Actor, batchId: string): Promise<Batch> {
  const row = await findBatch(deps.dataSource.manager, batchId, actor.orgId, false);
  if (!row) throw new NotFoundError('batch', batchId);
  return toBatch(row, await loadBatchTasks(deps.dataSource.manager, batchId));
}

export function toBatch(row: BatchRow, { tasks, dependencies }: BatchTasks): Batch {
  const nameOf = new Map(tasks.map((task) => [task.id, task.batch_step_name]));
  const dependsOn = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  for (const { task_id: taskId, depends_on_task_id: on } of dependencies) {
    dependsOn.set(taskId, [...(dependsOn.get(taskId) ?? []), nameOf.get(on) ?? on]);
    dependents.set(on, [...(dependents.get(on) ?? []), nameOf.get(taskId)!]);
  }
  const items: BatchTask[] = tasks.map((task) => ({
    taskId: task.id,
    name: task.batch_step_name,
    role: task.batch_role,
    ...(task.compensates_task_id ? { compensates: nameOf.get(task.compensates_task_id)! } : {}),
    type: task.type,
    status: task.status,
    dependsOn: (dependsOn.get(task.id) ?? []).sort(),
    dependents: (dependents.get(task.id) ?? []).sort(),
    createdAt: task.created_at.toISOString(),
    releasedAt: iso(task.batch_released_at),
    startedAt: iso(task.started_at),
    finishedAt: ['Completed', 'Failed', 'Timeout', 'Cancelled'].includes(task.status)
      ? iso(task.completed_at)
      : null,
  }));
  const steps = tasks.filter((task) => task.batch_role === 'step');
  const count = (predicate: (status: BatchTask['status']) => boolean) =>
    steps.filter((task) => predicate(task.status)).length;
  const started = tasks.flatMap((task) => (task.started_at ? [task.started_at.getTime()] : []));
  return {
    ...toSummary(row),
    startedAt: started.length > 0 ? new Date(Math.min(...started)).toISOString() : null,
    counts: {
      steps: steps.length,
      completed: count((s) => s === 'Completed'),
      failed: count((s) => s === 'Failed' || s === 'Timeout'),
      cancelled: count((s) => s === 'Cancelled'),
      running: count(isActive),
      waiting: count((s) => s === 'Created'),
      compensations: tasks.length - steps.length,
    },
    tasks: items,
  };
}

/** A cursor: base64url of `<batch id>.<event id>`, good only for its batch. */
function encodeCursor(batchId: string, eventId: string): string {
  return Buffer.from(`${batchId}.${eventId}`, 'utf8').toString('base64url');
}

/** The event id a cursor points after; null when it is not a `nextCursor` of this batch's events. */
export function decodeBatchEventCursor(batchId: string, cursor: string): string | null {
  const [id, eventId, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (id !== batchId || eventId === undefined || rest.length > 0 || !/^[1-9]\d{0,18}$/.test(eventId))
    return null;
  return eventId;
}

/** The batch's workflow events, oldest first, after the event id `after` (decodeBatchEventCursor). */
export async function listBatchEvents(
  deps: AppDeps,
  actor: Actor,
  batchId: string,
  page: { after: string; limit: number },
): Promise<BatchEventList> {
  const batch = await findBatch(deps.dataSource.manager, batchId, actor.orgId, false);
  if (!batch) throw new NotFoundError('batch', batchId);
  const rows: {
    id: string;
    task_id: string | null;
    type: string;
    data: Record<string, unknown>;
    occurred_at: Date;
  }[] = await deps.dataSource.query(
    `SELECT id::text, task_id, type, data, occurred_at FROM batch_events
        WHERE batch_id = $1 AND id > $2::bigint ORDER BY batch_events.id LIMIT $3`,
    [batchId, page.after, page.limit],
  );
  const last = rows[rows.length - 1];
  return {
    items: rows.map((row) => ({
      id: row.id,
      batchId,
      taskId: row.task_id,
      type: row.type,
      data: row.data,
      occurredAt: row.occurred_at.toISOString(),
    })),
    nextCursor: last ? encodeCursor(batchId, last.id) : null,
    hasMore: rows.length === page.limit,
  };
}
