import type { Task } from '@meridian/contracts/api/task';
import { isOnNode } from '../domain/task-status.js';
import { toTaskDto } from '../persistence/mappers.js';
import { taskEventsPart } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { decideRequest, RefusedTransitionError, runTaskRequest } from './task-request.js';

/**
 * POST /tasks/{id}/pause: a task that has no execution out stops at once (Paused: no run starts,
 * scheduled, cron or triggered, until resumed). One whose execution is out keeps it running: the
 * pause is requested and takes effect when the execution ends (applyRequestedPauses).
 */
export async function pauseTask(deps: AppDeps, actor: Actor, taskId: string, reason?: string): Promise<Task> {
  const task = await runTaskRequest(deps, actor, taskId, async (manager, task, now) => {
    if (task.pauseRequestedAt && isOnNode(task.status)) {
      throw new RefusedTransitionError(
        'Pause',
        task.status,
        'a pause is already requested: it takes effect when the running execution ends',
      );
    }
    const { from, to } = decideRequest(task, { type: 'Pause' });
    const paused = to === 'Paused';
    const changes = paused
      ? { status: to, pausedFrom: from, pausedAt: now, pauseRequestedAt: null, updatedAt: now }
      : { pauseRequestedAt: now, updatedAt: now };
    Object.assign(task, changes);
    await new WriteBatch()
      .add({
        sql: `UPDATE tasks SET status = $2, paused_from = $3, paused_at = $4, pause_requested_at = $5, updated_at = $6
               WHERE id = $1`,
        params: [task.id, task.status, task.pausedFrom, task.pausedAt, task.pauseRequestedAt, now],
      })
      .add(
        taskEventsPart([
          {
            orgId: task.orgId,
            taskId: task.id,
            executionId: paused ? null : task.currentExecutionId,
            type: paused ? 'TaskPaused' : 'TaskPauseRequested',
            fromStatus: from,
            toStatus: to,
            actor: `user:${actor.userId}`,
            correlationId: actor.correlationId,
            data: reason === undefined ? {} : { reason },
            occurredAt: now,
          },
        ]),
      )
      .run(manager);
    return task;
  });
  deps.logger.info(
    { taskId, paused: task.status === 'Paused', correlationId: actor.correlationId },
    task.status === 'Paused' ? 'task paused' : 'task pause requested',
  );
  return toTaskDto(task);
}
