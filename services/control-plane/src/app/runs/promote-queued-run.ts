import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { TaskRunEntity } from '../../persistence/entities/task-run.entity.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import { DISPATCH_CHANNEL } from '../../persistence/outbox.writes.js';
import { taskEventsPart } from '../../persistence/task-event.writes.js';
import { endRunPart } from '../../persistence/task-run.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import { runEventData } from './run-trigger.js';

/** Who makes a queued run current, in the audit log. */
export const QUEUED_RUNS_ACTOR = 'system:queued-runs';

/**
 * Makes the queued `run` current on an idle task the caller holds locked: the previous run ends,
 * the task goes to `to` (Pending) with a fresh set of automatic retries, and its next dispatch
 * carries the execution id announced when the run was queued. Recorded as `TaskQueued`; the
 * dispatchers are woken on commit. Mutates `task` and `run` to match.
 */
export async function promoteQueuedRun(
  manager: EntityManager,
  task: TaskEntity,
  run: TaskRunEntity,
  to: TaskStatus,
  now: Date,
): Promise<void> {
  const from = task.status;
  const previousRunId = task.currentRunId;
  const runAfter = run.runAfter > now ? run.runAfter : now;
  Object.assign(run, { state: 'current', startedAt: now, runAfter } satisfies Partial<TaskRunEntity>);
  Object.assign(task, {
    status: to,
    currentRunId: run.id,
    queuedRunCount: task.queuedRunCount - 1,
    triggerType: run.triggerType,
    nextExecutionId: run.firstExecutionId,
    retryCount: 0,
    runAfter,
    completedAt: null,
    updatedAt: now,
  } satisfies Partial<TaskEntity>);
  await new WriteBatch()
    .add(endRunPart(previousRunId, now))
    .add({
      sql: `UPDATE task_runs SET state = 'current', started_at = $2, run_after = $3 WHERE id = $1 AND state = 'queued'`,
      params: [run.id, now, runAfter],
    })
    .add({
      sql: `UPDATE tasks SET status = $2, current_run_id = $3, queued_run_count = $4, trigger_type = $5,
                             next_execution_id = $6, retry_count = 0, run_after = $7, completed_at = NULL,
                             updated_at = $8
             WHERE id = $1`,
      params: [
        task.id,
        task.status,
        run.id,
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
          type: 'TaskQueued',
          fromStatus: from,
          toStatus: task.status,
          actor: QUEUED_RUNS_ACTOR,
          correlationId: run.correlationId,
          data: runEventData(run),
          occurredAt: now,
        },
      ]),
    )
    .notify(DISPATCH_CHANNEL)
    .run(manager);
}
