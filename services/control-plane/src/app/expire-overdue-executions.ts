import { transition } from '../domain/task-status.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { lockExecutionsWithTasks } from '../persistence/execution-with-task.js';
import { enqueueOutboxMessages, notifyDispatchers } from '../persistence/outbox.writes.js';
import { appendTaskEvents } from '../persistence/task-event.writes.js';
import type { AppDeps } from './app-deps.js';
import { cancelCommandMessage } from './cancel-command.js';

/**
 * Times out executions whose deadline (plus a grace period for the agent's own report) has passed
 * without an end report: the agent died, its node was lost, or the report was lost. The node is
 * told to stop the work in case it still runs; the slot is freed. Returns how many expired.
 */
export async function expireOverdueExecutions(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - deps.defaults.timeoutGraceSeconds * 1000);
  return deps.dataSource.transaction(async (manager) => {
    const due: { id: string }[] = await manager.query(
      `SELECT id FROM executions WHERE released_at IS NULL AND deadline < $1
        ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [cutoff, batchSize],
    );
    if (due.length === 0) return 0;
    const locked = await lockExecutionsWithTasks(
      manager,
      due.map((row) => row.id),
    );
    for (const execution of locked.values()) {
      const moved = transition(execution.taskStatus, { type: 'TimeOut', executionId: execution.id });
      const applies = moved.ok && execution.currentExecutionId === execution.id;
      await manager.update(
        ExecutionEntity,
        { id: execution.id },
        {
          status: 'Timeout',
          releasedAt: now,
          completedAt: now,
          errorMessage: 'no end report before the deadline',
        },
      );
      if (applies) {
        await manager.update(
          TaskEntity,
          { id: execution.taskId },
          { status: 'Timeout', completedAt: now, updatedAt: now },
        );
      }
      await appendTaskEvents(manager, [
        {
          orgId: execution.orgId,
          taskId: execution.taskId,
          executionId: execution.id,
          type: 'ExecutionTimedOut',
          fromStatus: applies ? execution.taskStatus : null,
          toStatus: applies ? 'Timeout' : null,
          actor: 'system:deadline-sweep',
          correlationId: execution.correlationId,
          data: { nodeId: execution.nodeId, graceSeconds: deps.defaults.timeoutGraceSeconds },
          occurredAt: now,
        },
      ]);
      await enqueueOutboxMessages(manager, [
        cancelCommandMessage(deps.topology, {
          taskId: execution.taskId,
          executionId: execution.id,
          nodeId: execution.nodeId,
          reason: 'deadline passed',
          gracePeriodSeconds: deps.defaults.cancelGraceSeconds,
          correlationId: execution.correlationId,
          now,
        }),
      ]);
    }
    await notifyDispatchers(manager);
    return locked.size;
  });
}
