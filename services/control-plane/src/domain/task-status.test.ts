import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type TaskStatus } from '@meridian/contracts/api/task';
import { TASK_TRANSITION_EVENT_TYPES, transition, type TaskTransitionEvent } from './task-status.js';

const EVENTS: Record<string, TaskTransitionEvent> = {
  Queue: { type: 'Queue' },
  Dispatch: { type: 'Dispatch', executionId: 'e', nodeId: 'n' },
  Start: { type: 'Start', executionId: 'e' },
  Complete: { type: 'Complete', executionId: 'e' },
  FailFinal: { type: 'Fail', executionId: 'e', retryAt: null },
  FailRetry: { type: 'Fail', executionId: 'e', retryAt: new Date(0) },
  TimeOutFinal: { type: 'TimeOut', executionId: 'e', retryAt: null },
  TimeOutRetry: { type: 'TimeOut', executionId: 'e', retryAt: new Date(0) },
  LoseNodeFinal: { type: 'LoseNode', executionId: 'e', retryAt: null },
  LoseNodeRetry: { type: 'LoseNode', executionId: 'e', retryAt: new Date(0) },
  Cancel: { type: 'Cancel', reason: 'r' },
  CancelScheduled: { type: 'Cancel', reason: 'r', scheduled: true },
  Retry: { type: 'Retry' },
  Trigger: { type: 'Trigger', queue: false },
  TriggerQueued: { type: 'Trigger', queue: true },
  RescheduleOnce: { type: 'Reschedule', strategy: 'once' },
  RescheduleCron: { type: 'Reschedule', strategy: 'cron' },
  Pause: { type: 'Pause' },
  ResumeToPending: { type: 'Resume', pausedFrom: 'Pending' },
  ResumeToFailed: { type: 'Resume', pausedFrom: 'Failed' },
  ResumeToScheduled: { type: 'Resume', pausedFrom: 'Scheduled' },
  ResumeUnknown: { type: 'Resume', pausedFrom: null },
  ApplyPause: { type: 'ApplyPause' },
};

type EventName = keyof typeof EVENTS;
const COLUMNS = Object.keys(EVENTS);
const _ = null;

/**
 * Every (status, event) pair and its expected outcome: a status, or `_` when refused. Columns in
 * the order of EVENTS:
 * Queue, Dispatch, Start, Complete, FailFinal, FailRetry, TimeOutFinal, TimeOutRetry, LoseNodeFinal,
 * LoseNodeRetry, Cancel, CancelScheduled, Retry, Trigger, TriggerQueued, RescheduleOnce, RescheduleCron,
 * Pause, ResumeToPending, ResumeToFailed, ResumeToScheduled, ResumeUnknown, ApplyPause.
 */
// prettier-ignore
const ROWS: Record<TaskStatus, (TaskStatus | null)[]> = {
  Created:   ['Pending', _, _, _, _, _, _, _, _, _, 'Cancelled', 'Cancelled', _, _, _, _, _, _, _, _, _, _, _],
  Pending:   [_, 'Scheduled', _, _, _, _, _, _, _, _, 'Cancelled', 'Cancelled', _, _, 'Pending', 'Pending', 'Pending',
              'Paused', _, _, _, _, 'Paused'],
  Scheduled: [_, _, 'Running', 'Completed', 'Failed', 'Retrying', 'Timeout', 'Retrying', 'Failed', 'Retrying',
              'Cancelled', 'Cancelled', _, _, 'Scheduled', _, 'Scheduled', 'Scheduled', 'Scheduled', 'Scheduled',
              'Scheduled', 'Scheduled', _],
  Running:   [_, _, _, 'Completed', 'Failed', 'Retrying', 'Timeout', 'Retrying', 'Failed', 'Retrying',
              'Cancelled', 'Cancelled', _, _, 'Running', _, 'Running', 'Running', 'Running', 'Running', 'Running',
              'Running', _],
  Completed: [_, _, _, _, _, _, _, _, _, _, _, 'Cancelled', _, 'Pending', 'Pending', 'Pending', 'Completed',
              'Paused', _, _, _, _, 'Paused'],
  Failed:    [_, _, _, _, _, _, _, _, _, _, _, 'Cancelled', 'Pending', 'Pending', 'Pending', 'Pending', 'Failed',
              'Paused', _, _, _, _, 'Paused'],
  Retrying:  [_, 'Scheduled', _, _, _, _, _, _, _, _, 'Cancelled', 'Cancelled', _, _, 'Retrying', 'Pending',
              'Retrying', 'Paused', _, _, _, _, 'Paused'],
  Timeout:   [_, _, _, _, _, _, _, _, _, _, _, 'Cancelled', 'Pending', 'Pending', 'Pending', 'Pending', 'Timeout',
              'Paused', _, _, _, _, 'Paused'],
  Cancelled: [_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _],
  Paused:    [_, _, _, _, _, _, _, _, _, _, 'Cancelled', 'Cancelled', _, _, _, _, 'Paused', _, 'Pending', 'Failed', _,
              _, _],
};

const TABLE = Object.fromEntries(
  Object.entries(ROWS).map(([status, row]) => [
    status,
    Object.fromEntries(COLUMNS.map((name, index) => [name, row[index]])),
  ]),
) as Record<TaskStatus, Record<EventName, TaskStatus | null>>;

const CASES = TASK_STATUSES.flatMap((status) =>
  Object.keys(EVENTS).map((name) => [status, name, TABLE[status][name]] as const),
);

describe('transition', () => {
  it('the table covers every status and every event type', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...TASK_STATUSES].sort());
    for (const row of Object.values(ROWS)) expect(row).toHaveLength(COLUMNS.length);
    const covered = new Set(Object.values(EVENTS).map((event) => event.type));
    expect([...covered].sort()).toEqual([...TASK_TRANSITION_EVENT_TYPES].sort());
  });

  it.each(CASES)('%s + %s → %s', (status, name, expected) => {
    const result = transition(status, EVENTS[name]!);
    if (expected === null) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toContain(status);
    } else {
      expect(result).toEqual({ ok: true, from: status, to: expected });
    }
  });
});
