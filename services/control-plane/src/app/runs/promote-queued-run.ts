import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { TaskRunEntity } from '../../persistence/entities/task-run.entity.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import { makeRunCurrent } from './make-run-current.js';
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
  const runAfter = run.runAfter > now ? run.runAfter : now;
  Object.assign(run, { state: 'current', startedAt: now, runAfter } satisfies Partial<TaskRunEntity>);
  await makeRunCurrent(task, run, {
    to,
    runAfter,
    now,
    counts: { runCount: task.runCount, queuedRunCount: task.queuedRunCount - 1 },
    event: {
      type: 'TaskQueued',
      actor: QUEUED_RUNS_ACTOR,
      correlationId: run.correlationId,
      data: runEventData(run),
    },
  })
    .add({
      sql: `UPDATE task_runs SET state = 'current', started_at = $2, run_after = $3 WHERE id = $1 AND state = 'queued'`,
      params: [run.id, now, runAfter],
    })
    .run(manager);
}
