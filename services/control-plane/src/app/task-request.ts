import type { EntityManager } from 'typeorm';
import type { TaskStatus } from '@meridian/contracts/api/task';
import { ConflictError } from '../domain/errors.js';
import { decidingStatus } from '../domain/pause-request.js';
import { transition, type TaskTransitionEvent } from '../domain/task-status.js';
import type { TaskEntity } from '../persistence/entities/task.entity.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { recordTransitionRejected } from './record-transition-rejected.js';
import { lockTaskOfOrg } from './runs/lock-task.js';

/** The state machine refused a user's request: a 409, recorded as `TransitionRejected` where the caller can. */
export class RefusedTransitionError extends ConflictError {
  constructor(
    readonly event: TaskTransitionEvent['type'],
    readonly from: TaskStatus,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestDecision {
  /** The status decided on (Paused for a task whose requested pause is due to take effect). */
  from: TaskStatus;
  to: TaskStatus;
}

/**
 * Decides a user's request (reschedule, pause, resume) on a locked task with the state machine,
 * treating a requested pause whose execution has ended as the pause it is about to become.
 * Throws RefusedTransitionError when refused.
 */
export function decideRequest(task: TaskEntity, event: TaskTransitionEvent): RequestDecision {
  const { status } = decidingStatus(task, task.pauseRequestedAt !== null);
  const result = transition(status, event);
  if (!result.ok) throw new RefusedTransitionError(event.type, status, result.error);
  return { from: result.from, to: result.to };
}

type Outcome<T> = { done: T } | { refused: RefusedTransitionError };

/**
 * Runs `work` on the caller's task, locked, in one transaction. A refusal is recorded as a
 * `TransitionRejected` event (committed, nothing else changes) and answered with 409: `work` decides
 * (decideRequest) before it writes anything.
 */
export async function runTaskRequest<T>(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  work: (manager: EntityManager, task: TaskEntity, now: Date) => Promise<T>,
): Promise<T> {
  const now = deps.clock.now();
  const outcome = await deps.dataSource.transaction(async (manager): Promise<Outcome<T>> => {
    const task = await lockTaskOfOrg(manager, actor.orgId, taskId);
    try {
      return { done: await work(manager, task, now) };
    } catch (error) {
      if (!(error instanceof RefusedTransitionError)) throw error;
      await recordTransitionRejected(manager, actor, task, { event: error.event, error: error.message }, now);
      return { refused: error };
    }
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.done;
}
