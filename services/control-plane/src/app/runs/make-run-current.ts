import type { TaskStatus } from '@meridian/contracts/api/task';
import type { TaskRunEntity } from '../../persistence/entities/task-run.entity.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import { DISPATCH_CHANNEL } from '../../persistence/outbox.writes.js';
import { taskEventsPart } from '../../persistence/task-event.writes.js';
import { endRunPart } from '../../persistence/task-run.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';

export interface RunStartChange {
  to: TaskStatus;
  runAfter: Date;
  now: Date;
  /** The audit event recording the start: its type, who and why. */
  event: { type: string; actor: string; correlationId: string; data: Record<string, unknown> };
  /** The task's run counters after the change (a new run adds one to runCount, a queued one takes one off queuedRunCount). */
  counts: Pick<TaskEntity, 'runCount' | 'queuedRunCount'>;
}

/**
 * The writes that make `run` the current run of a task the caller holds locked: the previous run
 * ends, the task goes to `to` with a fresh set of automatic retries and its next dispatch carries
 * the run's announced execution id; the start is recorded and the dispatchers woken on commit.
 * Mutates `task` to match. The caller adds the run row's own write and runs the batch.
 */
export function makeRunCurrent(task: TaskEntity, run: TaskRunEntity, change: RunStartChange): WriteBatch {
  const { to, runAfter, now, event } = change;
  const from = task.status;
  const previousRunId = task.currentRunId;
  Object.assign(task, {
    status: to,
    currentRunId: run.id,
    ...change.counts,
    triggerType: run.triggerType,
    nextExecutionId: run.firstExecutionId,
    retryCount: 0,
    runAfter,
    completedAt: null,
    updatedAt: now,
  } satisfies Partial<TaskEntity>);
  return new WriteBatch()
    .add(endRunPart(previousRunId, now))
    .add({
      sql: `UPDATE tasks SET status = $2, current_run_id = $3, run_count = $4, queued_run_count = $5,
                             trigger_type = $6, next_execution_id = $7, retry_count = 0, run_after = $8,
                             completed_at = NULL, updated_at = $9
             WHERE id = $1`,
      params: [
        task.id,
        task.status,
        run.id,
        task.runCount,
        task.queuedRunCount,
        run.triggerType,
        run.firstExecutionId,
        runAfter,
        now,
      ],
    })
    .add(
      taskEventsPart([
        {
          orgId: task.orgId,
          taskId: task.id,
          executionId: run.firstExecutionId,
          type: event.type,
          fromStatus: from,
          toStatus: task.status,
          actor: event.actor,
          correlationId: event.correlationId,
          data: event.data,
          occurredAt: now,
        },
      ]),
    )
    .notify(DISPATCH_CHANNEL);
}
