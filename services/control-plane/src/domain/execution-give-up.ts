import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import { assertNever } from './assert-never.js';
import { retryOf, type ReportContext, type TaskView } from './execution-report.js';
import { isExecutionFinished } from './execution-status.js';
import { transition, type TaskTransitionEvent, type TransitionResult } from './task-status.js';

/** Why the control plane stops waiting for an execution's end report. */
export type GiveUpCause =
  /** Its node sent no heartbeat for `NODE_LOST_AFTER_SECONDS`. */
  | 'NodeLost'
  /** Its node was revoked by an admin: handled as a lost node. */
  | 'NodeRevoked'
  /** Its deadline (plus the grace period) passed. */
  | 'DeadlinePassed'
  /** Its node refused the ExecuteTask (a CommandRejected report) before accepting it. */
  | 'CommandRejected';

export interface GiveUpExecution {
  id: string;
  status: ExecutionStatus;
  /** Whether it is its task's current execution (an older one cannot move the task). */
  isCurrent: boolean;
}

export type GiveUpDecision =
  | { kind: 'skip'; reason: string }
  | {
      kind: 'give-up';
      executionStatus: Extract<ExecutionStatus, 'AgentLost' | 'Timeout' | 'Failed'>;
      /** The task event and the state machine's answer; null when the execution is not current. */
      task: { event: TaskTransitionEvent; result: TransitionResult } | null;
      retryAt: Date | null;
      maxRetriesReached: boolean;
    };

/**
 * Decides what ending an execution without its agent's report does. The execution ends (its slot
 * is freed) whatever the task's state; the task moves only if this is its current execution and
 * the state machine allows it: to Retrying when its policy has a retry left, else to Failed (lost
 * node, refused command) or Timeout. A timeout is retryable only when `retryOnTimeout` is set.
 */
export function decideGiveUp(
  cause: GiveUpCause,
  execution: GiveUpExecution,
  task: TaskView,
  context: ReportContext,
): GiveUpDecision {
  if (isExecutionFinished(execution.status)) {
    return { kind: 'skip', reason: `execution already ${execution.status}` };
  }
  const retryable = cause !== 'DeadlinePassed' || context.retryPolicy.retryOnTimeout;
  const retry = retryOf(retryable, task, context);
  const executionId = execution.id;
  const event = eventOf(cause, executionId, retry.at);
  const moved = execution.isCurrent ? { event, result: transition(task.status, event) } : null;
  const applies = moved?.result.ok ?? false;
  return {
    kind: 'give-up',
    executionStatus: EXECUTION_STATUS[cause],
    task: moved,
    retryAt: applies ? retry.at : null,
    maxRetriesReached: applies && retry.maxRetriesReached,
  };
}

const EXECUTION_STATUS = {
  NodeLost: 'AgentLost',
  NodeRevoked: 'AgentLost',
  DeadlinePassed: 'Timeout',
  CommandRejected: 'Failed',
} as const satisfies Record<GiveUpCause, ExecutionStatus>;

function eventOf(cause: GiveUpCause, executionId: string, retryAt: Date | null): TaskTransitionEvent {
  switch (cause) {
    case 'NodeLost':
    case 'NodeRevoked':
      return { type: 'LoseNode', executionId, retryAt };
    case 'DeadlinePassed':
      return { type: 'TimeOut', executionId, retryAt };
    case 'CommandRejected':
      return { type: 'Fail', executionId, retryAt };
    default:
      return assertNever(cause);
  }
}
