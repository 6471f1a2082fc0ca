import type { Task } from '@meridian/contracts/api/task';
import { nextOccurrence } from '../domain/cron-schedule.js';
import { decidingStatus } from '../domain/pause-request.js';
import { toTaskDto } from '../persistence/mappers.js';
import { DISPATCH_CHANNEL } from '../persistence/outbox.writes.js';
import { taskEventsPart } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { decideRequest, RefusedTransitionError, runTaskRequest } from './task-request.js';

/**
 * POST /tasks/{id}/resume: a Paused task returns to the status it was paused in; a cron schedule
 * goes on from its next occurrence after now (those that fell during the pause are skipped). On a
 * task whose pause was only requested, resuming withdraws the request.
 */
export async function resumeTask(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  reason?: string,
): Promise<Task> {
  const task = await runTaskRequest(deps, actor, taskId, async (manager, task, now) => {
    const deciding = decidingStatus(task, task.pauseRequestedAt !== null);
    if (deciding.status !== 'Paused' && !task.pauseRequestedAt) {
      throw new RefusedTransitionError(
        'Resume',
        task.status,
        `Resume is not allowed in status ${task.status}`,
      );
    }
    const { to } = decideRequest(task, { type: 'Resume', pausedFrom: deciding.pausedFrom });
    const before = task.status;
    // Only a pause that took effect skips occurrences; a withdrawn request leaves the schedule as it was.
    const withdrawn = before !== 'Paused';
    const pausedAt = task.pausedAt ?? task.pauseRequestedAt;
    Object.assign(task, {
      status: to,
      pausedFrom: null,
      pausedAt: null,
      pauseRequestedAt: null,
      nextRunAt: task.schedule && !withdrawn ? nextOccurrence(task.schedule, now) : task.nextRunAt,
      updatedAt: now,
    });
    await new WriteBatch()
      .add({
        sql: `UPDATE tasks SET status = $2, paused_from = NULL, paused_at = NULL, pause_requested_at = NULL,
                               next_run_at = $3, updated_at = $4
               WHERE id = $1`,
        params: [task.id, to, task.nextRunAt, now],
      })
      .add(
        taskEventsPart([
          {
            orgId: task.orgId,
            taskId: task.id,
            type: 'TaskResumed',
            fromStatus: before,
            toStatus: to,
            actor: `user:${actor.userId}`,
            correlationId: actor.correlationId,
            data: {
              pausedAt: pausedAt?.toISOString() ?? null,
              ...(withdrawn ? { pauseWithdrawn: true } : {}),
              ...(task.schedule ? { nextRunAt: task.nextRunAt?.toISOString() ?? null } : {}),
              ...(reason === undefined ? {} : { reason }),
            },
            occurredAt: now,
          },
        ]),
      )
      .notify(DISPATCH_CHANNEL)
      .run(manager);
    return task;
  });
  deps.logger.info({ taskId, status: task.status, correlationId: actor.correlationId }, 'task resumed');
  return toTaskDto(task);
}
