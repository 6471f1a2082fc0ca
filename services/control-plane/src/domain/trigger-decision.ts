import type { TaskStatus } from '@meridian/contracts/api/task';
import { MAX_QUEUED_RUNS } from '@meridian/contracts/api/task-run';
import { transition } from './task-status.js';

/** What a trigger does to a task: start a run now (`queued: false`) or queue it; or why it may not. */
export type TriggerDecision =
  | { ok: true; from: TaskStatus; to: TaskStatus; queued: boolean }
  | { ok: false; from: TaskStatus; error: string; message: string };

export interface TriggeredTask {
  status: TaskStatus;
  queuedRunCount: number;
  /** A pause asked for while an execution runs: the task is on its way to Paused. */
  pauseRequested: boolean;
}

/**
 * The state machine's `Trigger`, with the two limits it does not see: a task may hold at most
 * MAX_QUEUED_RUNS waiting runs, and a task being paused starts no new run, as a paused one does not.
 * `message` tells the caller what to do instead.
 */
export function decideTrigger(task: TriggeredTask, queue: boolean): TriggerDecision {
  const from = task.status;
  const moved = transition(from, { type: 'Trigger', queue });
  if (!moved.ok) return { ok: false, from, error: moved.error, message: refusal(from, moved.error) };
  if (task.pauseRequested) {
    const error = 'Trigger is not allowed while a pause is requested';
    return {
      ok: false,
      from,
      error,
      message: `the task is being paused (${from}); resume it before triggering it`,
    };
  }
  const queued = moved.to === from;
  if (queued && task.queuedRunCount >= MAX_QUEUED_RUNS) {
    const error = `Trigger is not allowed with ${MAX_QUEUED_RUNS} runs queued`;
    return {
      ok: false,
      from,
      error,
      message: `the task already has ${MAX_QUEUED_RUNS} runs queued, the most it may hold; trigger it again once one has started`,
    };
  }
  return { ok: true, from, to: moved.to, queued };
}

function refusal(from: TaskStatus, error: string): string {
  switch (from) {
    case 'Pending':
    case 'Retrying':
    case 'Scheduled':
    case 'Running':
      return `the task is ${from}: a run is in progress; send "queue": true to queue this run behind it`;
    case 'Paused':
      return 'the task is Paused: resume it before triggering it';
    case 'Cancelled':
      return 'the task is Cancelled: a cancelled task does not run again';
    default:
      return error;
  }
}
