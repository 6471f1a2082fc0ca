import type { Task } from '@meridian/contracts/api/task';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { toTaskDto } from '../persistence/mappers.js';
import { notifyDispatchers } from '../persistence/outbox.writes.js';
import { appendTaskEvents } from '../persistence/task-event.writes.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { applyUserTransition } from './user-transition.js';

/** Puts a Failed or Timeout task back in the queue, with a fresh set of automatic retries. */
export async function retryTask(deps: AppDeps, actor: Actor, taskId: string): Promise<Task> {
  const task = await applyUserTransition(deps, actor, taskId, { type: 'Retry' }, async (ctx) => {
    const { manager, task, now } = ctx;
    const changes = { status: ctx.to, retryCount: 0, runAfter: now, completedAt: null, updatedAt: now };
    Object.assign(task, changes);
    await manager.update(TaskEntity, { id: task.id }, changes);
    await appendTaskEvents(manager, [
      {
        orgId: task.orgId,
        taskId: task.id,
        type: 'TaskRetryRequested',
        fromStatus: ctx.from,
        toStatus: ctx.to,
        actor: `user:${actor.userId}`,
        correlationId: actor.correlationId,
        occurredAt: now,
      },
    ]);
    await notifyDispatchers(manager);
  });
  deps.logger.info({ taskId, correlationId: actor.correlationId }, 'task retry requested');
  return toTaskDto(task);
}
