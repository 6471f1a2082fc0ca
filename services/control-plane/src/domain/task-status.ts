import type { TaskStatus } from '@meridian/contracts/api/task';
import { assertNever } from './assert-never.js';

/**
 * What can happen to a task. Reports from agents, user actions and the scheduler's sweeps are all
 * mapped to one of these before the state machine decides.
 */
export type TaskTransitionEvent =
  | { type: 'Queue' }
  | { type: 'Dispatch'; executionId: string; nodeId: string }
  | { type: 'Start'; executionId: string }
  | { type: 'Complete'; executionId: string }
  | { type: 'Fail'; executionId: string; retryAt: Date | null }
  | { type: 'TimeOut'; executionId: string; retryAt: Date | null }
  /** The execution's node stopped heartbeating: a retryable failure that the agent never reported. */
  | { type: 'LoseNode'; executionId: string; retryAt: Date | null }
  | { type: 'Cancel'; reason: string }
  | { type: 'Retry' };

export type TaskTransitionEventType = TaskTransitionEvent['type'];

export const TASK_TRANSITION_EVENT_TYPES: TaskTransitionEventType[] = [
  'Queue',
  'Dispatch',
  'Start',
  'Complete',
  'Fail',
  'TimeOut',
  'LoseNode',
  'Cancel',
  'Retry',
];

export type TransitionResult =
  { ok: true; from: TaskStatus; to: TaskStatus } | { ok: false; from: TaskStatus; error: string };

const FINISHED: ReadonlySet<TaskStatus> = new Set(['Completed', 'Failed', 'Timeout', 'Cancelled']);

export function isFinished(status: TaskStatus): boolean {
  return FINISHED.has(status);
}

/** Statuses in which an execution may be out on a node. */
export function isOnNode(status: TaskStatus): boolean {
  return status === 'Scheduled' || status === 'Running';
}

function allowed(from: TaskStatus, to: TaskStatus): TransitionResult {
  return { ok: true, from, to };
}

function refused(from: TaskStatus, event: TaskTransitionEvent): TransitionResult {
  return { ok: false, from, error: `${event.type} is not allowed in status ${from}` };
}

/**
 * The task state machine (seed 004): Created → Pending → Scheduled → Running → Completed, with
 * Failed/Retrying, Timeout and Cancelled. A failure, a timeout or a lost node goes to Retrying when
 * the caller found a retry (`retryAt`), else ends the task. Pure: the caller applies the result and records it.
 */
export function transition(from: TaskStatus, event: TaskTransitionEvent): TransitionResult {
  switch (event.type) {
    case 'Queue':
      return from === 'Created' ? allowed(from, 'Pending') : refused(from, event);
    case 'Dispatch':
      return from === 'Pending' || from === 'Retrying' ? allowed(from, 'Scheduled') : refused(from, event);
    case 'Start':
      return from === 'Scheduled' ? allowed(from, 'Running') : refused(from, event);
    case 'Complete':
      // A completion may overtake its start report: Scheduled → Completed is legal.
      return isOnNode(from) ? allowed(from, 'Completed') : refused(from, event);
    case 'Fail':
    case 'LoseNode':
      if (!isOnNode(from)) return refused(from, event);
      return allowed(from, event.retryAt ? 'Retrying' : 'Failed');
    case 'TimeOut':
      if (!isOnNode(from)) return refused(from, event);
      return allowed(from, event.retryAt ? 'Retrying' : 'Timeout');
    case 'Cancel':
      return isFinished(from) ? refused(from, event) : allowed(from, 'Cancelled');
    case 'Retry':
      return from === 'Failed' || from === 'Timeout' ? allowed(from, 'Pending') : refused(from, event);
    default:
      return assertNever(event);
  }
}
