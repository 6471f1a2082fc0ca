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
  Retry: { type: 'Retry' },
};

/** Every (status, event) pair and its expected outcome: a status name, or null when refused. */
const TABLE: Record<TaskStatus, Record<keyof typeof EVENTS, TaskStatus | null>> = {
  Created: {
    Queue: 'Pending',
    Dispatch: null,
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: 'Cancelled',
    Retry: null,
  },
  Pending: {
    Queue: null,
    Dispatch: 'Scheduled',
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: 'Cancelled',
    Retry: null,
  },
  Scheduled: {
    Queue: null,
    Dispatch: null,
    Start: 'Running',
    Complete: 'Completed',
    FailFinal: 'Failed',
    FailRetry: 'Retrying',
    TimeOutFinal: 'Timeout',
    TimeOutRetry: 'Retrying',
    LoseNodeFinal: 'Failed',
    LoseNodeRetry: 'Retrying',
    Cancel: 'Cancelled',
    Retry: null,
  },
  Running: {
    Queue: null,
    Dispatch: null,
    Start: null,
    Complete: 'Completed',
    FailFinal: 'Failed',
    FailRetry: 'Retrying',
    TimeOutFinal: 'Timeout',
    TimeOutRetry: 'Retrying',
    LoseNodeFinal: 'Failed',
    LoseNodeRetry: 'Retrying',
    Cancel: 'Cancelled',
    Retry: null,
  },
  Completed: {
    Queue: null,
    Dispatch: null,
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: null,
    Retry: null,
  },
  Failed: {
    Queue: null,
    Dispatch: null,
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: null,
    Retry: 'Pending',
  },
  Retrying: {
    Queue: null,
    Dispatch: 'Scheduled',
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: 'Cancelled',
    Retry: null,
  },
  Timeout: {
    Queue: null,
    Dispatch: null,
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: null,
    Retry: 'Pending',
  },
  Cancelled: {
    Queue: null,
    Dispatch: null,
    Start: null,
    Complete: null,
    FailFinal: null,
    FailRetry: null,
    TimeOutFinal: null,
    TimeOutRetry: null,
    LoseNodeFinal: null,
    LoseNodeRetry: null,
    Cancel: null,
    Retry: null,
  },
};

const CASES = TASK_STATUSES.flatMap((status) =>
  Object.keys(EVENTS).map((name) => [status, name, TABLE[status][name]] as const),
);

describe('transition', () => {
  it('the table covers every status and every event type', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...TASK_STATUSES].sort());
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
