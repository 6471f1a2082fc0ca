import type { EntityManager } from 'typeorm';
import type { RescheduleBody, RescheduleResponse } from '@meridian/contracts/api/reschedule';
import type { TaskSchedule, TaskStatus } from '@meridian/contracts/api/task';
import { planReschedule, type ReschedulePlan } from '../domain/reschedule-plan.js';
import type { TaskEntity } from '../persistence/entities/task.entity.js';
import { DISPATCH_CHANNEL } from '../persistence/outbox.writes.js';
import { taskEventsPart } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { beginRun } from './runs/begin-run.js';
import { decideRequest, runTaskRequest } from './task-request.js';

/** A task's schedule as the `TaskRescheduled` event records it, before and after. */
interface ScheduleSnapshot {
  schedule: TaskSchedule | null;
  nextRunAt: string | null;
  status: TaskStatus;
}

type OncePlan = Extract<ReschedulePlan, { kind: 'once' }>;
type CronPlan = Extract<ReschedulePlan, { kind: 'cron' }>;

function snapshotOf(task: TaskEntity): ScheduleSnapshot {
  const waiting = task.status === 'Pending' || task.status === 'Retrying';
  const nextRunAt = waiting ? task.runAfter : task.nextRunAt;
  return { schedule: task.schedule, nextRunAt: nextRunAt?.toISOString() ?? null, status: task.status };
}

/** PUT /tasks/{id}/reschedule: the fields are checked (400) before the task is looked at. */
export async function rescheduleTask(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  body: RescheduleBody,
): Promise<RescheduleResponse> {
  const plan = planReschedule(body, deps.clock.now(), deps.random);
  const response = await runTaskRequest(deps, actor, taskId, (manager, task, now) =>
    applyReschedule(manager, actor, task, plan, now),
  );
  deps.logger.info(
    { taskId, strategy: body.strategy, nextRunAt: response.nextRunAt, correlationId: actor.correlationId },
    'task rescheduled',
  );
  return response;
}

/**
 * One reschedule on a task the caller holds locked (FOR UPDATE), in the caller's transaction (the
 * bulk reschedule). Throws InvalidFieldError (400) for a bad field, ConflictError (409) when the
 * task's status does not allow it; writes nothing then.
 */
export async function rescheduleLockedTask(
  manager: EntityManager,
  deps: AppDeps,
  actor: Actor,
  task: TaskEntity,
  body: RescheduleBody,
): Promise<RescheduleResponse> {
  const now = deps.clock.now();
  return applyReschedule(manager, actor, task, planReschedule(body, now, deps.random), now);
}

async function applyReschedule(
  manager: EntityManager,
  actor: Actor,
  task: TaskEntity,
  plan: ReschedulePlan,
  now: Date,
): Promise<RescheduleResponse> {
  const decision = decideRequest(task, { type: 'Reschedule', strategy: plan.kind });
  const previous = snapshotOf(task);
  const outcome =
    plan.kind === 'cron'
      ? await setCronSchedule(manager, actor, task, plan, previous, now)
      : await scheduleOneRun(manager, actor, task, plan, decision.to, previous, now);
  return {
    taskId: task.id,
    strategy: plan.strategy,
    nextRunAt: outcome.nextRunAt.toISOString(),
    ...(plan.kind === 'once' && plan.strategy !== 'immediate' ? { delayMs: plan.delayMs } : {}),
    ...(plan.kind === 'cron'
      ? { expression: plan.schedule.expression, timezone: plan.schedule.timezone }
      : {}),
    status: task.status,
    ...(outcome.executionId ? { executionId: outcome.executionId } : {}),
    previousSchedule: { nextRunAt: previous.nextRunAt, schedule: previous.schedule },
  };
}

interface Outcome {
  nextRunAt: Date;
  executionId: string | null;
}

/** `cron`: the runs after the current one follow the schedule; the status does not move. */
async function setCronSchedule(
  manager: EntityManager,
  actor: Actor,
  task: TaskEntity,
  plan: CronPlan,
  previous: ScheduleSnapshot,
  now: Date,
): Promise<Outcome> {
  Object.assign(task, { schedule: plan.schedule, nextRunAt: plan.next, updatedAt: now });
  await new WriteBatch()
    .add({
      sql: `UPDATE tasks SET schedule = $2::jsonb, next_run_at = $3, updated_at = $4 WHERE id = $1`,
      params: [task.id, JSON.stringify(plan.schedule), plan.next, now],
    })
    .add(
      taskEventsPart([
        {
          orgId: task.orgId,
          taskId: task.id,
          type: 'TaskRescheduled',
          fromStatus: task.status,
          toStatus: task.status,
          actor: `user:${actor.userId}`,
          correlationId: actor.correlationId,
          data: { strategy: 'cron', previous, next: snapshotOf(task) },
          occurredAt: now,
        },
      ]),
    )
    .run(manager);
  return { nextRunAt: plan.next, executionId: null };
}

/**
 * immediate, delayed, exponential_backoff: one run at now + delay. A waiting run (Pending,
 * Retrying) is re-timed; a finished task starts a new run (trigger `scheduled`). Either way the
 * task leaves any cron schedule.
 */
async function scheduleOneRun(
  manager: EntityManager,
  actor: Actor,
  task: TaskEntity,
  plan: OncePlan,
  to: TaskStatus,
  previous: ScheduleSnapshot,
  now: Date,
): Promise<Outcome> {
  const runAfter = new Date(now.getTime() + plan.delayMs);
  const next: ScheduleSnapshot = { schedule: null, nextRunAt: runAfter.toISOString(), status: to };
  const eventData = { strategy: plan.strategy, delayMs: plan.delayMs, previous, next };
  const waiting = task.status === 'Pending' || task.status === 'Retrying';
  if (!waiting) {
    const run = await beginRun(
      manager,
      task,
      {
        type: 'scheduled',
        context: {},
        reason: `reschedule ${plan.strategy}`,
        actor: `user:${actor.userId}`,
        correlationId: actor.correlationId,
      },
      { to, now, runAfter, eventType: 'TaskRescheduled', eventData },
    );
    if (task.schedule || task.nextRunAt) {
      Object.assign(task, { schedule: null, nextRunAt: null });
      await manager.query(`UPDATE tasks SET schedule = NULL, next_run_at = NULL WHERE id = $1`, [task.id]);
    }
    return { nextRunAt: runAfter, executionId: run.firstExecutionId };
  }
  const from = task.status;
  Object.assign(task, { status: to, runAfter, schedule: null, nextRunAt: null, updatedAt: now });
  await new WriteBatch()
    .add({
      sql: `UPDATE tasks SET status = $2, run_after = $3, schedule = NULL, next_run_at = NULL, updated_at = $4
             WHERE id = $1`,
      params: [task.id, to, runAfter, now],
    })
    .add(
      task.currentRunId
        ? { sql: `UPDATE task_runs SET run_after = $2 WHERE id = $1`, params: [task.currentRunId, runAfter] }
        : null,
    )
    .add(
      taskEventsPart([
        {
          orgId: task.orgId,
          taskId: task.id,
          executionId: task.nextExecutionId,
          type: 'TaskRescheduled',
          fromStatus: from,
          toStatus: to,
          actor: `user:${actor.userId}`,
          correlationId: actor.correlationId,
          data: { ...eventData, runId: task.currentRunId },
          occurredAt: now,
        },
      ]),
    )
    .notify(DISPATCH_CHANNEL)
    .run(manager);
  return { nextRunAt: runAfter, executionId: task.nextExecutionId };
}
