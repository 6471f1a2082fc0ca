import type { EntityManager } from 'typeorm';
import { DISPATCH_CHANNEL } from './outbox.writes.js';
import { taskEventsPart, type NewTaskEvent } from './task-event.writes.js';
import { WriteBatch } from './write-batch.js';

interface MovedRow {
  id: string;
  org_id: string;
  correlation_id: string;
  next_execution_id: string | null;
}

/**
 * Created → Pending for the given waiting tasks of a batch, with their `TaskQueued` events, and
 * wakes the dispatchers. Guarded by the status: a task already released (or cancelled) is left
 * alone, so that each is released exactly once. Returns the ids released.
 */
export async function releaseWaitingTasks(
  manager: EntityManager,
  taskIds: readonly string[],
  actor: string,
  now: Date,
): Promise<string[]> {
  if (taskIds.length === 0) return [];
  const rows: MovedRow[] = await manager.query(
    // In a CTE: TypeORM answers a bare UPDATE with [rows, count].
    `WITH released AS (
       UPDATE tasks SET status = 'Pending', run_after = $2, updated_at = $2, batch_released_at = $2
        WHERE id = ANY($1::uuid[]) AND status = 'Created'
        RETURNING id, org_id, correlation_id, next_execution_id)
     SELECT * FROM released`,
    [taskIds, now],
  );
  if (rows.length === 0) return [];
  const events: NewTaskEvent[] = rows.map((row) => ({
    orgId: row.org_id,
    taskId: row.id,
    executionId: row.next_execution_id,
    type: 'TaskQueued',
    fromStatus: 'Created',
    toStatus: 'Pending',
    actor,
    correlationId: row.correlation_id,
    data: { reason: 'its dependencies completed' },
    occurredAt: now,
  }));
  await new WriteBatch()
    .add({
      sql: `UPDATE task_runs r SET run_after = $2 FROM tasks t
             WHERE t.id = ANY($1::uuid[]) AND r.id = t.current_run_id`,
      params: [rows.map((row) => row.id), now.toISOString()],
    })
    .add(taskEventsPart(events))
    .notify(DISPATCH_CHANNEL)
    .run(manager);
  return rows.map((row) => row.id);
}

/** Created → Cancelled for waiting tasks that will never run, each with its reason. Returns the ids cancelled. */
export async function cancelWaitingTasks(
  manager: EntityManager,
  cancels: readonly { id: string; reason: string }[],
  actor: string,
  now: Date,
): Promise<string[]> {
  if (cancels.length === 0) return [];
  const rows: (MovedRow & { reason: string })[] = await manager.query(
    `WITH cancelled AS (
       UPDATE tasks t SET status = 'Cancelled', cancelled_by = $3, cancellation_reason = c.reason,
              completed_at = $4, updated_at = $4
         FROM unnest($1::uuid[], $2::text[]) AS c(id, reason)
        WHERE t.id = c.id AND t.status = 'Created'
        RETURNING t.id, t.org_id, t.correlation_id, t.next_execution_id, c.reason)
     SELECT * FROM cancelled`,
    [cancels.map((c) => c.id), cancels.map((c) => c.reason), actor, now],
  );
  const events: NewTaskEvent[] = rows.map((row) => ({
    orgId: row.org_id,
    taskId: row.id,
    type: 'TaskCancelled',
    fromStatus: 'Created',
    toStatus: 'Cancelled',
    actor,
    correlationId: row.correlation_id,
    data: { reason: row.reason, stopRequested: false },
    occurredAt: now,
  }));
  await new WriteBatch().add(taskEventsPart(events)).run(manager);
  return rows.map((row) => row.id);
}
