import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import type { CapturedOutput } from '@meridian/contracts/messages/agent-events';
import { clampText, INT4_MAX } from '@meridian/contracts/storable';
import type { ReportDecision } from '../domain/execution-report.js';
import type { LockedExecution } from '../persistence/execution-with-task.js';
import type { ExecutionUpdate, TaskUpdate } from '../persistence/report.writes.js';
import type { NewTaskEvent } from '../persistence/task-event.writes.js';

/** Column changes of one execution and its task, accumulated over the reports of a batch. */
export interface RowChanges {
  execution: Partial<ExecutionUpdate>;
  task: Partial<TaskUpdate>;
}

function outputColumns(output: CapturedOutput | undefined, maxBytes: number): Partial<ExecutionUpdate> {
  if (!output) return {};
  const stdout = clampText(output.stdout, maxBytes);
  const stderr = clampText(output.stderr, maxBytes);
  return {
    output: stdout.text,
    errorOutput: stderr.text,
    outputTruncatedBytes: Math.min(
      INT4_MAX,
      output.truncatedBytes + stdout.droppedBytes + stderr.droppedBytes,
    ),
  };
}

/**
 * Turns an applied decision into column changes and the audit event. `locked` is updated in place
 * so that the next report of the same execution in the batch decides on the new state.
 */
export function effectsOfReport(
  report: ExecutionReport,
  decision: Extract<ReportDecision, { kind: 'applied' }>,
  locked: LockedExecution,
  changes: RowChanges,
  now: Date,
  outputMaxBytes: number,
): NewTaskEvent {
  const at = new Date(report.occurredAt);
  const exec = changes.execution;
  exec['status'] = decision.execution.status;
  if ('lastLogSeq' in report.payload && report.payload.lastLogSeq !== undefined) {
    exec['lastLogSeq'] = report.payload.lastLogSeq;
  }
  exec['lastSequence'] = decision.execution.lastSequence;
  if (decision.execution.release) exec['releasedAt'] = now;
  const data: Record<string, unknown> = { sequence: report.payload.sequence };

  switch (report.type) {
    case 'TaskAccepted':
      exec['acceptedAt'] = at;
      locked.acceptedAt = at;
      break;
    case 'TaskStarted':
      exec['startedAt'] = at;
      locked.startedAt = at;
      if (report.payload.pid != null) data['pid'] = report.payload.pid;
      break;
    case 'TaskProgress':
      exec['progressPercent'] = report.payload.percent;
      exec['progressMessage'] = report.payload.message ?? null;
      data['percent'] = report.payload.percent;
      if (report.payload.message) data['message'] = report.payload.message;
      break;
    case 'TaskCompleted':
      Object.assign(exec, outputColumns(report.payload.output, outputMaxBytes), {
        completedAt: at,
        exitCode: report.payload.exitCode,
        durationMs: report.payload.durationMs,
        result: report.payload.result ?? null,
      });
      Object.assign(data, { exitCode: report.payload.exitCode, durationMs: report.payload.durationMs });
      break;
    case 'TaskFailed':
      Object.assign(exec, outputColumns(report.payload.output, outputMaxBytes), {
        completedAt: at,
        exitCode: report.payload.exitCode,
        durationMs: report.payload.durationMs ?? null,
        errorMessage: report.payload.error,
      });
      Object.assign(data, {
        error: report.payload.error,
        exitCode: report.payload.exitCode,
        retryable: report.payload.retryable,
        timedOut: report.payload.timedOut ?? false,
      });
      break;
    case 'TaskCancelled':
      Object.assign(exec, outputColumns(report.payload.output, outputMaxBytes), {
        completedAt: at,
        exitCode: report.payload.exitCode ?? null,
        durationMs: report.payload.durationMs ?? null,
        errorMessage: report.payload.reason ?? 'cancelled',
      });
      if (report.payload.reason) data['reason'] = report.payload.reason;
      break;
  }
  locked.status = decision.execution.status;
  locked.lastSequence = decision.execution.lastSequence;

  const base = {
    orgId: locked.orgId,
    taskId: locked.taskId,
    executionId: locked.id,
    actor: `node:${report.nodeId}`,
    correlationId: report.correlationId,
    messageId: report.messageId,
    occurredAt: at,
  };
  if (!decision.task) return { ...base, type: report.type, data };
  const result = decision.task.result;
  if (!result.ok) {
    return {
      ...base,
      type: 'TransitionRejected',
      fromStatus: result.from,
      data: { ...data, report: report.type, error: result.error },
    };
  }
  const task = changes.task;
  task['status'] = result.to;
  task['updatedAt'] = now;
  if (result.to === 'Running' && !locked.taskStartedAt) task['startedAt'] = at;
  if (result.to === 'Retrying') {
    task['retryCount'] = locked.retryCount + 1;
    task['runAfter'] = decision.retryAt;
    data['retryAt'] = decision.retryAt?.toISOString();
    locked.retryCount += 1;
  }
  if (['Completed', 'Failed', 'Timeout'].includes(result.to)) task['completedAt'] = at;
  locked.taskStatus = result.to;
  return { ...base, type: report.type, fromStatus: result.from, toStatus: result.to, data };
}

/**
 * A start report that a later report overtook: its event goes into the history (marked `late`),
 * and the execution's (and task's) start time is filled in where it is still empty. No state moves.
 */
export function effectsOfLateReport(
  report: Extract<ExecutionReport, { type: 'TaskAccepted' | 'TaskStarted' }>,
  locked: LockedExecution,
  changes: RowChanges,
): NewTaskEvent {
  const at = new Date(report.occurredAt);
  const data: Record<string, unknown> = { sequence: report.payload.sequence, late: true };
  if (report.type === 'TaskAccepted') {
    changes.execution['acceptedAt'] = at;
    locked.acceptedAt = at;
  } else {
    changes.execution['startedAt'] = at;
    locked.startedAt = at;
    if (report.payload.pid != null) data['pid'] = report.payload.pid;
    if (!locked.taskStartedAt) {
      changes.task['startedAt'] = at;
      locked.taskStartedAt = at;
    }
  }
  return {
    orgId: locked.orgId,
    taskId: locked.taskId,
    executionId: locked.id,
    type: report.type,
    actor: `node:${report.nodeId}`,
    correlationId: report.correlationId,
    messageId: report.messageId,
    data,
    occurredAt: at,
  };
}
