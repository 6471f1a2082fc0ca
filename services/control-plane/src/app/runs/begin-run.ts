import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { TaskRunEntity } from '../../persistence/entities/task-run.entity.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import { taskEventsPart } from '../../persistence/task-event.writes.js';
import { taskRunPart } from '../../persistence/task-run.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import { makeRunCurrent } from './make-run-current.js';
import { newRun, runEventData, type RunTrigger } from './run-trigger.js';

export interface BeginRunOptions {
  /** The status the state machine moved the task to (Pending). */
  to: TaskStatus;
  now: Date;
  /** Earliest dispatch; `now` for a run that starts at once. */
  runAfter: Date;
  /** The audit event that records the new run; `TaskTriggered` unless the caller's action has its own name. */
  eventType?: string;
  /** More of the event's metadata (a reschedule's old and new schedule). */
  eventData?: Record<string, unknown>;
}

/**
 * Makes a new run current on a task the caller holds locked (FOR UPDATE), in the caller's
 * transaction: the previous run ends, the task goes to `to` with a fresh set of automatic retries,
 * and its next dispatch carries the run's announced execution id. Mutates `task` to match.
 */
export async function beginRun(
  manager: EntityManager,
  task: TaskEntity,
  trigger: RunTrigger,
  options: BeginRunOptions,
): Promise<TaskRunEntity> {
  const { now, runAfter } = options;
  const run = newRun(task, trigger, 'current', runAfter, now);
  await makeRunCurrent(task, run, {
    to: options.to,
    runAfter,
    now,
    counts: { runCount: task.runCount + 1, queuedRunCount: task.queuedRunCount },
    event: {
      type: options.eventType ?? 'TaskTriggered',
      actor: trigger.actor,
      correlationId: trigger.correlationId,
      data: { ...runEventData(run), ...options.eventData },
    },
  })
    .add(taskRunPart(run))
    .run(manager);
  return run;
}

/**
 * Queues a run behind the one in progress (`queue: true`): the task keeps its status; the run
 * sweep makes the oldest queued run current once the task is idle. Mutates `task` to match.
 */
export async function queueRun(
  manager: EntityManager,
  task: TaskEntity,
  trigger: RunTrigger,
  now: Date,
): Promise<TaskRunEntity> {
  const run = newRun(task, trigger, 'queued', now, now);
  Object.assign(task, {
    runCount: task.runCount + 1,
    queuedRunCount: task.queuedRunCount + 1,
    updatedAt: now,
  } satisfies Partial<TaskEntity>);
  await new WriteBatch()
    .add(taskRunPart(run))
    .add({
      sql: `UPDATE tasks SET run_count = $2, queued_run_count = $3, updated_at = $4 WHERE id = $1`,
      params: [task.id, task.runCount, task.queuedRunCount, now],
    })
    .add(
      taskEventsPart([
        {
          orgId: task.orgId,
          taskId: task.id,
          executionId: run.firstExecutionId,
          type: 'TaskTriggered',
          fromStatus: task.status,
          toStatus: task.status,
          actor: trigger.actor,
          correlationId: trigger.correlationId,
          data: { ...runEventData(run), queued: true },
          occurredAt: now,
        },
      ]),
    )
    .run(manager);
  return run;
}
