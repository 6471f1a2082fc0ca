import { randomUUID } from 'node:crypto';
import type { Task } from '@meridian/contracts/api/task';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import { CANCEL_TASK, CANCEL_TASK_SCHEMA_VERSION, type CancelTask } from '@meridian/contracts/messages/cancel-task';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { toTaskDto } from '../persistence/mappers.js';
import { enqueueOutboxMessages } from '../persistence/outbox.writes.js';
import { appendTaskEvents } from '../persistence/task-event.writes.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { applyUserTransition } from './user-transition.js';

/**
 * Cancels a task that has not finished. If an execution is out on a node, the node is told to
 * stop it (on its control queue, ahead of any work); its slot is freed when the agent confirms.
 */
export async function cancelTask(deps: AppDeps, actor: Actor, taskId: string, reason?: string): Promise<Task> {
  const why = reason ?? 'cancelled by user';
  const task = await applyUserTransition(deps, actor, taskId, { type: 'Cancel', reason: why }, async (ctx) => {
    const { manager, task, now } = ctx;
    Object.assign(task, {
      status: ctx.to,
      cancelledBy: actor.userId,
      cancellationReason: why,
      completedAt: now,
      updatedAt: now,
    });
    await manager.update(
      TaskEntity,
      { id: task.id },
      { status: ctx.to, cancelledBy: actor.userId, cancellationReason: why, completedAt: now, updatedAt: now },
    );
    const execution = task.currentExecutionId
      ? await manager.findOneBy(ExecutionEntity, { id: task.currentExecutionId })
      : null;
    const onNode = execution && execution.releasedAt === null;
    if (execution && onNode) {
      await manager.update(ExecutionEntity, { id: execution.id }, { status: 'Cancelling' });
      const command: CancelTask = {
        taskId: task.id,
        executionId: execution.id,
        reason: why,
        gracePeriodSeconds: deps.defaults.cancelGraceSeconds,
      };
      const messageId = randomUUID();
      await enqueueOutboxMessages(manager, [
        {
          messageId,
          exchange: deps.topology.commandsExchange,
          routingKey: deps.topology.nodeControlKey(execution.nodeId),
          type: CANCEL_TASK,
          correlationId: actor.correlationId,
          body: buildEnvelope(
            CANCEL_TASK,
            CANCEL_TASK_SCHEMA_VERSION,
            { messageId, occurredAt: now, correlationId: actor.correlationId, nodeId: execution.nodeId },
            command,
          ),
        },
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
        data: { reason: why, stopRequested: Boolean(onNode) },
        occurredAt: now,
      },
    ]);
  });
  deps.logger.info({ taskId, correlationId: actor.correlationId }, 'task cancelled');
  return toTaskDto(task);
}
