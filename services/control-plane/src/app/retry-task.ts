import type { Task } from '@meridian/contracts/api/task';
import { toTaskDto } from '../persistence/mappers.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { beginRun } from './runs/begin-run.js';
import type { RunTrigger } from './runs/run-trigger.js';
import { applyUserTransition } from './user-transition.js';

/**
 * Runs a Failed or Timeout task again: a new run (trigger `retry`) with a fresh set of automatic
 * retries, recorded as `TaskRetryRequested`.
 */
export async function retryTask(deps: AppDeps, actor: Actor, taskId: string): Promise<Task> {
  const task = await applyUserTransition(deps, actor, taskId, { type: 'Retry' }, async (ctx) => {
    const trigger: RunTrigger = {
      type: 'retry',
      context: {},
      reason: null,
      actor: `user:${actor.userId}`,
      correlationId: actor.correlationId,
    };
    await beginRun(ctx.manager, ctx.task, trigger, {
      to: ctx.to,
      now: ctx.now,
      runAfter: ctx.now,
      eventType: 'TaskRetryRequested',
    });
  });
  deps.logger.info({ taskId, correlationId: actor.correlationId }, 'task retry requested');
  return toTaskDto(task);
}
