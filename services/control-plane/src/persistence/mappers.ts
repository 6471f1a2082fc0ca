import type { Execution } from '@meridian/contracts/api/execution';
import type { Node } from '@meridian/contracts/api/node';
import type { NodeServer } from '@meridian/contracts/api/node-server';
import type { Task } from '@meridian/contracts/api/task';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { priorityFromRank } from '../domain/node-selection.js';
import type { ExecutionEntity } from './entities/execution.entity.js';
import type { NodeServerEntity } from './entities/node-server.entity.js';
import type { NodeEntity } from './entities/node.entity.js';
import type { TaskEventEntity } from './entities/task-event.entity.js';
import type { TaskEntity } from './entities/task.entity.js';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function toTaskDto(task: TaskEntity): Task {
  return {
    id: task.id,
    orgId: task.orgId,
    type: task.type,
    name: task.name,
    description: task.description,
    priority: priorityFromRank(task.priority),
    status: task.status,
    targetType: task.targetType,
    targetId: task.targetId,
    nodeId: task.nodeId,
    payload: task.payload,
    metadata: task.metadata,
    timeoutSeconds: task.timeoutSeconds,
    maxRetries: task.maxRetries,
    retryCount: task.retryCount,
    retryPolicy: task.retryPolicy,
    scheduledAt: iso(task.scheduledAt),
    nextAttemptAt: task.status === 'Retrying' ? iso(task.runAfter) : null,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    startedAt: iso(task.startedAt),
    completedAt: iso(task.completedAt),
    createdBy: task.createdBy,
    cancelledBy: task.cancelledBy,
    cancellationReason: task.cancellationReason,
    correlationId: task.correlationId,
    currentExecutionId: task.currentExecutionId,
    runNumber: task.runCount - task.queuedRunCount,
    triggerType: task.triggerType,
    queuedRuns: task.queuedRunCount,
    schedule: task.schedule,
    nextRunAt: nextRunAt(task),
    pausedAt: iso(task.pausedAt),
    pauseRequested: task.pauseRequestedAt !== null,
  };
}

/** A waiting run's start, else the schedule's next occurrence; a paused task starts none. */
function nextRunAt(task: TaskEntity): string | null {
  if (task.status === 'Paused' || task.pauseRequestedAt) return null;
  if (task.status === 'Pending') return task.runAfter.toISOString();
  return iso(task.nextRunAt);
}

export function toExecutionDto(execution: ExecutionEntity): Execution {
  return {
    executionId: execution.id,
    taskId: execution.taskId,
    attempt: execution.attempt,
    status: execution.status,
    nodeId: execution.nodeId,
    agentId: execution.agentId,
    dispatchedAt: execution.dispatchedAt.toISOString(),
    startedAt: iso(execution.startedAt),
    completedAt: iso(execution.completedAt),
    deadline: execution.deadline.toISOString(),
    durationMs: execution.durationMs,
    exitCode: execution.exitCode,
    progressPercent: execution.progressPercent,
    progressMessage: execution.progressMessage,
    output: execution.output,
    errorOutput: execution.errorOutput,
    outputTruncatedBytes: execution.outputTruncatedBytes,
    errorMessage: execution.errorMessage,
    result: execution.result ?? null,
    runId: execution.runId,
    runNumber: execution.runNumber,
    trigger: {
      type: execution.triggerType,
      reason: execution.triggerReason,
      context: execution.triggerContext,
    },
  };
}

export function toTaskEventDto(event: TaskEventEntity): TaskEvent {
  const occurredAt = event.occurredAt.toISOString();
  return {
    eventId: event.id,
    eventType: event.type,
    timestamp: occurredAt,
    previousState: event.fromStatus,
    newState: event.toStatus,
    metadata: event.data,
    id: event.id,
    taskId: event.taskId,
    executionId: event.executionId,
    type: event.type,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    actor: event.actor,
    correlationId: event.correlationId,
    messageId: event.messageId,
    data: event.data,
    occurredAt,
    recordedAt: event.recordedAt.toISOString(),
  };
}

export function toNodeDto(node: NodeEntity, runningCount: number, online: boolean, enrolled: boolean): Node {
  return {
    id: node.id,
    orgId: node.orgId,
    status: node.revokedAt
      ? 'revoked'
      : node.lostAt
        ? 'lost'
        : !online || node.agentId === '' // enrolled, never connected yet
          ? 'offline'
          : node.draining
            ? 'draining'
            : 'online',
    agentId: node.agentId,
    agentVersion: node.agentVersion,
    protocolVersion: node.protocolVersion,
    capacity: node.capacity,
    runningCount,
    reportedRunning: node.reportedRunning,
    labels: node.labels,
    lastSeenAt: node.lastSeenAt.toISOString(),
    firstSeenAt: node.firstSeenAt.toISOString(),
    lostAt: iso(node.lostAt),
    enrolled,
    revokedAt: iso(node.revokedAt),
    handlerTypes: node.handlerTypes,
  };
}

export function toNodeServerDto(server: NodeServerEntity): NodeServer {
  return {
    serverId: server.serverId,
    nodeId: server.nodeId,
    state: server.state,
    pid: server.pid,
    startedAt: iso(server.startedAt),
    lastExitCode: server.lastExitCode,
    lastExitSignal: server.lastExitSignal,
    restarts: server.restarts,
    changedAt: iso(server.changedAt),
    reportedAt: iso(server.reportedAt),
  };
}
