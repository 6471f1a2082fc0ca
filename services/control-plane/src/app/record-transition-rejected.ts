import type { EntityManager } from 'typeorm';
import type { TaskEntity } from '../persistence/entities/task.entity.js';
import { appendTaskEvents } from '../persistence/task-event.writes.js';
import type { Actor } from './actor.js';

/**
 * Records a user's request that the state machine refused (`TransitionRejected`), in the
 * transaction that holds the task locked; the task itself is left as it is.
 */
export async function recordTransitionRejected(
  manager: EntityManager,
  actor: Actor,
  task: TaskEntity,
  data: { event: string; error: string } & Record<string, unknown>,
  now: Date,
): Promise<void> {
  await appendTaskEvents(manager, [
    {
      orgId: task.orgId,
      taskId: task.id,
      type: 'TransitionRejected',
      fromStatus: task.status,
      actor: `user:${actor.userId}`,
      correlationId: actor.correlationId,
      data,
      occurredAt: now,
    },
  ]);
}
