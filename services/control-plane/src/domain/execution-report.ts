import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import { assertNever } from './assert-never.js';
import { isExecutionFinished } from './execution-status.js';
import { decideRetry, type RetryPolicy } from './retry-policy.js';
import { transition, type TaskTransitionEvent, type TransitionResult } from './task-status.js';

export interface ExecutionView {
  id: string;
  nodeId: string;
  status: ExecutionStatus;
  lastSequence: number;
  /** When the execution was accepted and started; null: not recorded (undefined: not known). */
  acceptedAt?: Date | null;
  startedAt?: Date | null;
}

export interface TaskView {
  status: TaskStatus;
  retryCount: number;
  maxRetries: number;
}

export interface ReportContext {
  now: Date;
  random: number;
  retryPolicy: RetryPolicy;
}

/** How a report changes its execution; only the fields that change are set. */
export interface ExecutionChange {
  status: ExecutionStatus;
  lastSequence: number;
  /** The node slot is freed: the execution will take no more reports. */
  release: boolean;
}

export type ReportDecision =
  | { kind: 'ignored'; reason: string }
  /**
   * A start report (TaskAccepted, TaskStarted) that arrived after a later report of its execution
   * was applied (a completion overtook it): recorded in the history with its time, state unchanged.
   */
  | { kind: 'late'; reason: string }
  | {
      kind: 'applied';
      execution: ExecutionChange;
      /** The task-level event, if the report moves the task, and the state machine's answer. */
      task: { event: TaskTransitionEvent; result: TransitionResult } | null;
      /** Set when a failure will be retried automatically. */
      retryAt: Date | null;
    };

/**
 * Decides what one agent report does to its execution and task. Reports are ordered by the
 * agent's per-execution sequence: one not newer than what is stored, from the wrong node, or for
 * a finished execution changes nothing (the caller records it).
 */
export function decideReport(
  report: ExecutionReport,
  execution: ExecutionView,
  task: TaskView,
  context: ReportContext,
): ReportDecision {
  if (report.nodeId !== execution.nodeId) {
    return {
      kind: 'ignored',
      reason: `report from node ${report.nodeId}, execution runs on ${execution.nodeId}`,
    };
  }
  const sequence = report.payload.sequence;
  if (sequence < execution.lastSequence && isUnrecordedStart(report, execution)) {
    return { kind: 'late', reason: `late ${report.type}: sequence ${sequence} < ${execution.lastSequence}` };
  }
  if (sequence <= execution.lastSequence) {
    return {
      kind: 'ignored',
      reason: `stale report: sequence ${sequence} ≤ ${execution.lastSequence} already applied`,
    };
  }
  if (isExecutionFinished(execution.status)) {
    return { kind: 'ignored', reason: `execution already ${execution.status}` };
  }
  const cancelling = execution.status === 'Cancelling';
  const change = (status: ExecutionStatus, release = false): ExecutionChange => ({
    status: cancelling && !release ? 'Cancelling' : status,
    lastSequence: sequence,
    release,
  });
  const moveTask = (event: TaskTransitionEvent) => ({ event, result: transition(task.status, event) });
  const executionId = execution.id;

  switch (report.type) {
    case 'TaskAccepted':
      return { kind: 'applied', execution: change('Accepted'), task: null, retryAt: null };
    case 'TaskStarted':
      return {
        kind: 'applied',
        execution: change('Running'),
        task: moveTask({ type: 'Start', executionId }),
        retryAt: null,
      };
    case 'TaskProgress':
      return {
        kind: 'applied',
        execution: change(execution.status === 'Dispatched' ? 'Running' : execution.status),
        task: null,
        retryAt: null,
      };
    case 'TaskCompleted':
      return {
        kind: 'applied',
        execution: change('Completed', true),
        task: moveTask({ type: 'Complete', executionId }),
        retryAt: null,
      };
    case 'TaskFailed': {
      if (report.payload.timedOut) {
        return {
          kind: 'applied',
          execution: change('Timeout', true),
          task: moveTask({ type: 'TimeOut', executionId }),
          retryAt: null,
        };
      }
      return failure(report.payload.retryable, change('Failed', true));
    }
    case 'TaskCancelled':
      // Cancelled because we asked: the task is already Cancelled. Cancelled by the node on its
      // own (agent shutting down): the work did not finish, so it counts as a retryable failure.
      if (cancelling || task.status === 'Cancelled') {
        return { kind: 'applied', execution: change('Cancelled', true), task: null, retryAt: null };
      }
      return failure(true, change('Cancelled', true));
    default:
      return assertNever(report);
  }

  function failure(retryable: boolean, executionChange: ExecutionChange): ReportDecision {
    const retry = decideRetry(context.retryPolicy, {
      retryable,
      retriesUsed: task.retryCount,
      maxRetries: task.maxRetries,
      now: context.now,
      random: context.random,
    });
    const retryAt = retry.retry ? retry.at : null;
    return {
      kind: 'applied',
      execution: executionChange,
      task: moveTask({ type: 'Fail', executionId, retryAt }),
      retryAt,
    };
  }
}

/** A TaskAccepted or TaskStarted whose moment the execution does not have yet. */
function isUnrecordedStart(report: ExecutionReport, execution: ExecutionView): boolean {
  if (report.type === 'TaskAccepted') return execution.acceptedAt === null;
  if (report.type === 'TaskStarted') return execution.startedAt === null;
  return false;
}
