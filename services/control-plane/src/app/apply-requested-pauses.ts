import type { TaskStatus } from '@meridian/contracts/api/task';
import { transition } from '../domain/task-status.js';
import { taskEventsPart, type NewTaskEvent } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { AppDeps } from './app-deps.js';

interface RequestedPauseRow {
  id: string;
  org_id: string;
  status: TaskStatus;
  correlation_id: string;
  pause_requested_at: Date;
}

/**
 * One pass of the pause sweep: a pause asked for while an execution ran takes effect once the
 * task no longer holds a node (its run ended, or an attempt failed and waits to be retried):
 * Paused, event TaskPaused. Any replica may run it (SKIP LOCKED). Returns how many it paused.
 */
export async function applyRequestedPauses(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const rows: RequestedPauseRow[] = await manager.query(
      `SELECT id, org_id, status, correlation_id, pause_requested_at FROM tasks
        WHERE pause_requested_at IS NOT NULL AND status IN ('Pending', 'Retrying', 'Completed', 'Failed', 'Timeout')
        ORDER BY pause_requested_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    const events: NewTaskEvent[] = [];
    const ids: string[] = [];
    for (const row of rows) {
      const moved = transition(row.status, { type: 'ApplyPause' });
      if (!moved.ok) continue;
      ids.push(row.id);
      events.push({
        orgId: row.org_id,
        taskId: row.id,
        type: 'TaskPaused',
        fromStatus: moved.from,
        toStatus: moved.to,
        actor: 'system:pause-sweep',
        correlationId: row.correlation_id,
        data: { requestedAt: row.pause_requested_at.toISOString() },
        occurredAt: now,
      });
    }
    if (ids.length === 0) return 0;
    await new WriteBatch()
      .add({
        sql: `UPDATE tasks SET paused_from = status, status = 'Paused', paused_at = $2, pause_requested_at = NULL,
                               updated_at = $2
               WHERE id = ANY($1::uuid[])`,
        params: [ids, now],
      })
      .add(taskEventsPart(events))
      .run(manager);
    return ids.length;
  });
}
