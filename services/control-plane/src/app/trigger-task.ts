import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { TriggerResponse } from '@meridian/contracts/api/task-run';
import { ConflictError } from '../domain/errors.js';
import { decideTrigger } from '../domain/trigger-decision.js';
import type { TaskEntity } from '../persistence/entities/task.entity.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { estimateCompletion, type CompletionEstimator } from './estimate-completion.js';
import { beginRun, queueRun } from './runs/begin-run.js';
import type { RunTrigger } from './runs/run-trigger.js';

export interface TriggerRequest {
  context: Record<string, unknown>;
  triggerReason?: string;
  queue: boolean;
  triggerType: 'manual' | 'bulk';
  idempotencyKey?: string | null;
}

/** A trigger the task's status does not allow (409); `error` is the state machine's wording. */
export class TriggerRefusedError extends ConflictError {
  constructor(
    message: string,
    readonly from: TaskStatus,
    readonly error: string,
  ) {
    super(message);
  }
}

/**
 * Triggers a task the caller holds locked (FOR UPDATE), in the caller's transaction: a finished
 * task gets a new run at once (Pending, dispatched as usual); one whose run is in progress gets
 * the run queued behind it when `queue` is asked. Throws TriggerRefusedError (409) before writing
 * anything otherwise. Mutates `task` to match. `estimate` computes `estimatedCompletion` (a bulk
 * call passes one that reads each task type's history once for all its items).
 */
export async function triggerLockedTask(
  manager: EntityManager,
  deps: AppDeps,
  actor: Actor,
  task: TaskEntity,
  request: TriggerRequest,
  estimate: CompletionEstimator = estimateCompletion,
): Promise<TriggerResponse> {
  const decision = decideTrigger(
    {
      status: task.status,
      queuedRunCount: task.queuedRunCount,
      pauseRequested: task.pauseRequestedAt !== null,
    },
    request.queue,
  );
  if (!decision.ok) throw new TriggerRefusedError(decision.message, decision.from, decision.error);
  const now = deps.clock.now();
  const trigger: RunTrigger = {
    type: request.triggerType,
    context: request.context,
    reason: request.triggerReason ?? null,
    actor: `user:${actor.userId}`,
    correlationId: actor.correlationId,
    idempotencyKey: request.idempotencyKey ?? null,
  };
  const run = decision.queued
    ? await queueRun(manager, task, trigger, now)
    : await beginRun(manager, task, trigger, { to: decision.to, now, runAfter: now });
  const start = run.runAfter > now ? run.runAfter : now;
  const estimated = await estimate(manager, task.orgId, task.type, start);
  deps.logger.info(
    {
      taskId: task.id,
      runNumber: run.runNumber,
      queued: decision.queued,
      correlationId: actor.correlationId,
    },
    'task triggered',
  );
  return {
    executionId: run.firstExecutionId,
    estimatedCompletion: estimated ? estimated.toISOString() : null,
    taskId: task.id,
    runNumber: run.runNumber,
    queued: decision.queued,
    status: task.status,
  };
}
