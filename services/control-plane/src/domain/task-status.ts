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
  /** `scheduled`: the task has a cron schedule, so a finished one still has runs to come and may be cancelled. */
  | { type: 'Cancel'; reason: string; scheduled?: boolean }
  | { type: 'Retry' }
  /**
   * A new run: a user's trigger, a queued run reaching the front, a cron occurrence. With `queue`, a
   * task whose run is in progress keeps its status and the new run waits behind the current one.
   */
  | { type: 'Trigger'; queue: boolean }
  /** `once`: immediate, delayed or backoff, a run at one time; `cron`: a schedule for the runs after. */
  | { type: 'Reschedule'; strategy: 'once' | 'cron' }
  | { type: 'Pause' }
  /** `pausedFrom`: the status the task was paused in. */
  | { type: 'Resume'; pausedFrom: TaskStatus | null }
  /** A pause asked for while an execution ran takes effect once the task no longer needs the node. */
  | { type: 'ApplyPause' };

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
  'Trigger',
  'Reschedule',
  'Pause',
  'Resume',
  'ApplyPause',
];

export type TransitionResult =
  { ok: true; from: TaskStatus; to: TaskStatus } | { ok: false; from: TaskStatus; error: string };

const FINISHED: ReadonlySet<TaskStatus> = new Set(['Completed', 'Failed', 'Timeout', 'Cancelled']);

export function isFinished(status: TaskStatus): boolean {
  return FINISHED.has(status);
}

/** Statuses a pause applies to at once: no execution is out, so the task simply stops starting runs. */
const IDLE_PAUSABLE: ReadonlySet<TaskStatus> = new Set([
  'Pending',
  'Retrying',
  'Completed',
  'Failed',
  'Timeout',
]);

export function isIdlePausable(status: TaskStatus): boolean {
  return IDLE_PAUSABLE.has(status);
}

/** A run is queued, waiting for a node, or out on one: a new run must queue behind it. */
export function hasRunInProgress(status: TaskStatus): boolean {
  return status === 'Pending' || status === 'Retrying' || isOnNode(status);
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

function reschedule(
  from: TaskStatus,
  event: Extract<TaskTransitionEvent, { type: 'Reschedule' }>,
): TransitionResult {
  if (from === 'Cancelled' || from === 'Created') return refused(from, event);
  // A cron schedule applies to the runs after the current one, so it never moves the status.
  if (event.strategy === 'cron') return allowed(from, from);
  // A run at one time: re-times a waiting run, or starts a new one on a finished task; never
  // while an execution is out (cancel it first) nor while paused (resume first).
  if (isOnNode(from) || from === 'Paused') return refused(from, event);
  return allowed(from, 'Pending');
}

/**
 * The task state machine (seed 004): Created → Pending → Scheduled → Running → Completed, with
 * Failed/Retrying, Timeout and Cancelled. A failure, a timeout or a lost node goes to Retrying when
 * the caller found a retry (`retryAt`), else ends the task. A task runs more than once: a finished
 * task may be triggered or rescheduled into a new run (Pending); one whose run is in progress may only
 * queue a run behind it. Paused starts no run until resumed. Pure: the caller applies the result and records it.
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
      if (from === 'Cancelled') return refused(from, event);
      // A finished task with a schedule still has runs to come: cancelling it removes it from the schedule.
      return isFinished(from) && !event.scheduled ? refused(from, event) : allowed(from, 'Cancelled');
    case 'Retry':
      return from === 'Failed' || from === 'Timeout' ? allowed(from, 'Pending') : refused(from, event);
    case 'Trigger':
      if (from === 'Completed' || from === 'Failed' || from === 'Timeout') return allowed(from, 'Pending');
      return event.queue && hasRunInProgress(from) ? allowed(from, from) : refused(from, event);
    case 'Reschedule':
      return reschedule(from, event);
    case 'Pause':
      if (IDLE_PAUSABLE.has(from)) return allowed(from, 'Paused');
      // The execution on the node is not interrupted: the pause waits for it (ApplyPause).
      return isOnNode(from) ? allowed(from, from) : refused(from, event);
    case 'Resume':
      if (from === 'Paused') {
        return event.pausedFrom && IDLE_PAUSABLE.has(event.pausedFrom)
          ? allowed(from, event.pausedFrom)
          : refused(from, event);
      }
      // Withdraws a pause asked for while the execution runs.
      return isOnNode(from) ? allowed(from, from) : refused(from, event);
    case 'ApplyPause':
      return IDLE_PAUSABLE.has(from) ? allowed(from, 'Paused') : refused(from, event);
    default:
      return assertNever(event);
  }
}
