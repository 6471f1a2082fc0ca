import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { TaskRetryPolicy, TaskStatus } from '@meridian/contracts/api/task';
import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import { assertNever } from './assert-never.js';
import { isExecutionFinished, isGivenUp } from './execution-status.js';
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
  /** The task's own backoff; null: the configured one. */
  retryPolicy: TaskRetryPolicy | null;
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
  | {
      kind: 'ignored';
      reason: string;
      /**
       * The agent still works on an execution the control plane gave up (lost node, deadline):
       * tell it to stop.
       */
      cancelExecution?: boolean;
    }
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
      /** A retryable failure found every retry used (recorded as `MaxRetriesReached`). */
      maxRetriesReached?: boolean;
    };

/** Reports that end an execution; after one the agent sends nothing more about it. */
const END_REPORTS: ReadonlySet<ExecutionReport['type']> = new Set([
  'TaskCompleted',
  'TaskFailed',
  'TaskCancelled',
]);

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
    const reason = `execution already ${execution.status}`;
    // A report newer than the last applied one, about work still going on, from the node the
    // execution was given up on: the agent came back and runs what is being retried elsewhere.
    if (isGivenUp(execution.status) && !END_REPORTS.has(report.type)) {
      return {
        kind: 'ignored',
        reason: `${reason}: given up, the node is told to cancel it`,
        cancelExecution: true,
      };
    }
    return { kind: 'ignored', reason };
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
        const retry = retryOf(context.retryPolicy.retryOnTimeout, task, context);
        const moved = moveTask({ type: 'TimeOut', executionId, retryAt: retry.at });
        return applied(change('Timeout', true), moved, retry);
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
    const retry = retryOf(retryable, task, context);
    return applied(executionChange, moveTask({ type: 'Fail', executionId, retryAt: retry.at }), retry);
  }
}

/** A TaskAccepted or TaskStarted whose moment the execution does not have yet. */
function isUnrecordedStart(report: ExecutionReport, execution: ExecutionView): boolean {
  if (report.type === 'TaskAccepted') return execution.acceptedAt === null;
  if (report.type === 'TaskStarted') return execution.startedAt === null;
  return false;
}

function applied(
  execution: ExecutionChange,
  task: { event: TaskTransitionEvent; result: TransitionResult },
  retry: FailureRetry,
): ReportDecision {
  return {
    kind: 'applied',
    execution,
    task,
    retryAt: retry.at,
    maxRetriesReached: retry.maxRetriesReached && task.result.ok,
  };
}

export interface FailureRetry {
  /** When the task is retried; null: it is not. */
  at: Date | null;
  maxRetriesReached: boolean;
}

/** Whether a failure of the task is retried, under the task's own backoff or the configured one. */
export function retryOf(retryable: boolean, task: TaskView, context: ReportContext): FailureRetry {
  const decision = decideRetry(context.retryPolicy, {
    retryable,
    retriesUsed: task.retryCount,
    maxRetries: task.maxRetries,
    now: context.now,
    random: context.random,
    taskBackoff: task.retryPolicy,
  });
  return decision.retry
    ? { at: decision.at, maxRetriesReached: false }
    : { at: null, maxRetriesReached: decision.maxRetriesReached };
}
