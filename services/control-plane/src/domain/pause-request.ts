import type { TaskStatus } from '@meridian/contracts/api/task';
import { isIdlePausable } from './task-status.js';

export interface DecidingStatus {
  status: TaskStatus;
  /** The status a resume returns to, when `status` is Paused. */
  pausedFrom: TaskStatus | null;
}

/**
 * The status a user's request is decided on. A pause asked for while an execution ran takes
 * effect through a sweep once the execution ended (ApplyPause); until that sweep came by, the task
 * is already as good as Paused, so that no request slips a run in between.
 */
export function decidingStatus(
  task: { status: TaskStatus; pausedFrom: TaskStatus | null },
  pauseRequested: boolean,
): DecidingStatus {
  if (pauseRequested && isIdlePausable(task.status)) return { status: 'Paused', pausedFrom: task.status };
  return { status: task.status, pausedFrom: task.status === 'Paused' ? task.pausedFrom : null };
}
