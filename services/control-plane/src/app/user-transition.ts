import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import { ConflictError } from '../domain/errors.js';
import { transition, type TaskTransitionEvent } from '../domain/task-status.js';
import type { TaskEntity } from '../persistence/entities/task.entity.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { recordTransitionRejected } from './record-transition-rejected.js';
import { lockTaskOfOrg } from './runs/lock-task.js';

export interface UserTransitionContext {
  manager: EntityManager;
  task: TaskEntity;
  from: TaskStatus;
  to: TaskStatus;
  now: Date;
}

type Outcome = { rejected: string } | { task: TaskEntity };

/**
 * Runs a user's request to move a task (cancel, retry) under a row lock. A move the state machine
 * refuses is recorded as a `TransitionRejected` event and answered with 409; nothing else changes.
 * `event` may be read off the locked task (a cancel depends on whether the task has a schedule).
 */
export async function applyUserTransition(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  eventOf: TaskTransitionEvent | ((task: TaskEntity) => TaskTransitionEvent),
  apply: (context: UserTransitionContext) => Promise<void>,
): Promise<TaskEntity> {
  const now = deps.clock.now();
  const outcome = await deps.dataSource.transaction(async (manager): Promise<Outcome> => {
    const task = await lockTaskOfOrg(manager, actor.orgId, taskId);
    const event = typeof eventOf === 'function' ? eventOf(task) : eventOf;
    const result = transition(task.status, event);
    if (!result.ok) {
      await recordTransitionRejected(manager, actor, task, { event: event.type, error: result.error }, now);
      return { rejected: result.error };
    }
    await apply({ manager, task, from: result.from, to: result.to, now });
    return { task };
  });
  if ('rejected' in outcome) throw new ConflictError(outcome.rejected);
  return outcome.task;
}
