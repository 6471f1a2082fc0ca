import type { Task } from '@meridian/contracts/api/task';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { toTaskDto } from '../persistence/mappers.js';
import { dropQueuedRuns } from '../persistence/queued-runs.js';
import { enqueueOutboxMessages } from '../persistence/outbox.writes.js';
import { appendTaskEvents } from '../persistence/task-event.writes.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { applyUserTransition } from './user-transition.js';
import { cancelCommandMessage } from './cancel-command.js';

/**
 * Cancels a task that has not finished, or a finished one that has a schedule (its cron stops).
 * Runs queued behind the current one are dropped, a requested pause is withdrawn. If an execution
 * is out on a node, the node is told to stop it (on its control queue, ahead of any work); its
 * slot is freed when the agent confirms.
 */
export async function cancelTask(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  reason?: string,
): Promise<Task> {
  const why = reason ?? 'cancelled by user';
  const task = await applyUserTransition(
    deps,
    actor,
    taskId,
    (task) => ({ type: 'Cancel', reason: why, scheduled: task.schedule !== null }),
    async (ctx) => {
      const { manager, task, now } = ctx;
      const changes = {
        status: ctx.to,
        cancelledBy: actor.userId,
        cancellationReason: why,
        completedAt: now,
        updatedAt: now,
        queuedRunCount: 0,
        nextRunAt: null,
        pauseRequestedAt: null,
      } satisfies Partial<TaskEntity>;
      Object.assign(task, changes);
      await manager.update(TaskEntity, { id: task.id }, changes);
      const droppedRuns = await dropQueuedRuns(manager, task.id, now);
      const execution = task.currentExecutionId
        ? await manager.findOneBy(ExecutionEntity, { id: task.currentExecutionId })
        : null;
      const onNode = execution && execution.releasedAt === null;
      if (execution && onNode) {
        await manager.update(ExecutionEntity, { id: execution.id }, { status: 'Cancelling' });
        await enqueueOutboxMessages(manager, [
          cancelCommandMessage(deps.topology, {
            taskId: task.id,
            executionId: execution.id,
            nodeId: execution.nodeId,
            reason: why,
            gracePeriodSeconds: deps.defaults.cancelGraceSeconds,
            correlationId: actor.correlationId,
            now,
          }),
        ]);
      }
      await appendTaskEvents(manager, [
        {
          orgId: task.orgId,
          taskId: task.id,
          executionId: onNode ? execution.id : null,
          type: 'TaskCancelled',
          fromStatus: ctx.from,
          toStatus: ctx.to,
          actor: `user:${actor.userId}`,
          correlationId: actor.correlationId,
          data: { reason: why, stopRequested: Boolean(onNode), ...(droppedRuns > 0 ? { droppedRuns } : {}) },
          occurredAt: now,
        },
      ]);
    },
  );
  deps.logger.info({ taskId, correlationId: actor.correlationId }, 'task cancelled');
  return toTaskDto(task);
}
