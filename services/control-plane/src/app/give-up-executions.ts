import type { EntityManager } from 'typeorm';
import { decideGiveUp, type GiveUpCause } from '../domain/execution-give-up.js';
import type { LockedExecution } from '../persistence/execution-with-task.js';
import {
  DISPATCH_CHANNEL,
  OUTBOX_CHANNEL,
  outboxPart,
  type NewOutboxMessage,
} from '../persistence/outbox.writes.js';
import {
  executionUpdatesPart,
  taskUpdatesPart,
  type ExecutionUpdate,
  type TaskUpdate,
} from '../persistence/report.writes.js';
import { taskEventsPart, type NewTaskEvent } from '../persistence/task-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { AppDeps } from './app-deps.js';
import { cancelCommandMessage, nameBasedUuid } from './cancel-command.js';
import { maxRetriesReachedEvent } from './retry-events.js';

interface CauseMeta {
  event: string;
  actor: string;
  error: string;
  /** The CancelTask sent in case the node still runs the work; null: it never started it. */
  cancelReason: string | null;
}

const CAUSES: Record<GiveUpCause, CauseMeta> = {
  NodeLost: {
    event: 'ExecutionLost',
    actor: 'system:lost-node-sweep',
    error: 'the node stopped sending heartbeats',
    cancelReason: 'node lost: the execution was given up',
  },
  NodeRevoked: {
    event: 'ExecutionLost',
    actor: 'system:node-revocation',
    error: 'the node was revoked',
    cancelReason: 'node revoked: the execution was given up',
  },
  DeadlinePassed: {
    event: 'ExecutionTimedOut',
    actor: 'system:deadline-sweep',
    error: 'no end report before the deadline',
    cancelReason: 'deadline passed',
  },
  CommandRejected: {
    event: 'CommandRejected',
    actor: 'system:command-rejected',
    error: 'the node refused the command',
    cancelReason: null,
  },
};

/** The id of the CancelTask sent when an execution is given up: at most one per execution. */
export function giveUpCancelId(executionId: string): string {
  return nameBasedUuid(`${executionId}:given-up`);
}

/**
 * Ends executions the control plane stops waiting for (rows locked by the caller): each is
 * finished with the cause's status and its slot freed; its task moves as `decideGiveUp` says
 * (retried per policy, or ended); one audit event each (plus `MaxRetriesReached` when the retries
 * ran out); and the node is told to stop the work in case it still runs. Returns how many ended.
 */
export async function giveUpExecutions(
  deps: AppDeps,
  manager: EntityManager,
  cause: GiveUpCause,
  executions: Iterable<LockedExecution>,
  now: Date,
  data: (execution: LockedExecution) => Record<string, unknown>,
  /** Who the audit events name, when not the cause's sweep (the node that refused, say). */
  actorOf?: (execution: LockedExecution) => string,
): Promise<number> {
  const meta = CAUSES[cause];
  const executionUpdates: ExecutionUpdate[] = [];
  const taskUpdates: TaskUpdate[] = [];
  const events: NewTaskEvent[] = [];
  const cancels: NewOutboxMessage[] = [];
  for (const execution of executions) {
    const decision = decideGiveUp(
      cause,
      {
        id: execution.id,
        status: execution.status,
        isCurrent: execution.currentExecutionId === execution.id,
      },
      {
        status: execution.taskStatus,
        retryCount: execution.retryCount,
        maxRetries: execution.maxRetries,
        retryPolicy: execution.retryPolicy,
      },
      { now, random: deps.random(), retryPolicy: deps.retryPolicy },
    );
    if (decision.kind === 'skip') continue;
    executionUpdates.push({
      id: execution.id,
      status: decision.executionStatus,
      lastSequence: execution.lastSequence,
      releasedAt: now,
      completedAt: now,
      errorMessage: meta.error,
    });
    const moved = decision.task?.result.ok ? decision.task.result : null;
    if (moved) {
      taskUpdates.push({
        id: execution.taskId,
        status: moved.to,
        updatedAt: now,
        ...(moved.to === 'Retrying'
          ? { retryCount: execution.retryCount + 1, runAfter: decision.retryAt ?? now }
          : { completedAt: now }),
      });
    }
    const base = {
      orgId: execution.orgId,
      taskId: execution.taskId,
      executionId: execution.id,
      actor: actorOf?.(execution) ?? meta.actor,
      correlationId: execution.correlationId,
      occurredAt: now,
    };
    events.push({
      ...base,
      type: meta.event,
      fromStatus: moved?.from ?? null,
      toStatus: moved?.to ?? null,
      data: {
        nodeId: execution.nodeId,
        executionStatus: execution.status,
        ...(decision.retryAt ? { retryAt: decision.retryAt.toISOString() } : {}),
        ...data(execution),
      },
    });
    if (decision.maxRetriesReached) events.push(maxRetriesReachedEvent(execution, base, cause));
    if (meta.cancelReason === null) continue;
    cancels.push(
      cancelCommandMessage(deps.topology, {
        taskId: execution.taskId,
        executionId: execution.id,
        nodeId: execution.nodeId,
        reason: meta.cancelReason,
        gracePeriodSeconds: deps.defaults.cancelGraceSeconds,
        correlationId: execution.correlationId,
        now,
        messageId: giveUpCancelId(execution.id),
      }),
    );
  }
  if (executionUpdates.length === 0) return 0;
  await new WriteBatch()
    .add(executionUpdatesPart(executionUpdates))
    .add(taskUpdatesPart(taskUpdates))
    .add(taskEventsPart(events))
    .add(outboxPart(cancels))
    .notify(OUTBOX_CHANNEL)
    .notify(DISPATCH_CHANNEL)
    .run(manager);
  return executionUpdates.length;
}
