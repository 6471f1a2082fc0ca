import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '@meridian/contracts/api/task';
import { decideGiveUp } from './execution-give-up.js';
import type { RetryPolicy } from './retry-policy.js';

const now = new Date('2026-01-01T00:00:00Z');
const retryPolicy: RetryPolicy = {
  backoff: { kind: 'fixed', backoffSeconds: [5, 30, 120] },
  jitterRatio: 0.1,
  retryOnTimeout: true,
};
const context = (retryOnTimeout = true) => ({
  now,
  random: 0.5,
  retryPolicy: { ...retryPolicy, retryOnTimeout },
});
const task = (status: TaskStatus, retryCount = 0, maxRetries = 3) => ({
  status,
  retryCount,
  maxRetries,
  retryPolicy: null,
});

describe('decideGiveUp', () => {
  it.each([
    // cause, execution status, current, task status, retries used, retry on timeout
    //   → execution status, task status (null: unchanged, 'rejected'), delay, MaxRetriesReached
    ['NodeLost', 'Dispatched', true, 'Scheduled', 0, true, 'AgentLost', 'Retrying', 5_000, false],
    ['NodeLost', 'Running', true, 'Running', 1, true, 'AgentLost', 'Retrying', 30_000, false],
    ['NodeLost', 'Running', true, 'Running', 3, true, 'AgentLost', 'Failed', null, true],
    ['NodeLost', 'Running', true, 'Running', 0, false, 'AgentLost', 'Retrying', 5_000, false],
    ['NodeLost', 'Cancelling', true, 'Cancelled', 0, true, 'AgentLost', 'rejected', null, false],
    ['NodeLost', 'Running', false, 'Scheduled', 0, true, 'AgentLost', null, null, false],
    ['NodeRevoked', 'Dispatched', true, 'Scheduled', 0, true, 'AgentLost', 'Retrying', 5_000, false],
    ['NodeRevoked', 'Running', true, 'Running', 0, false, 'AgentLost', 'Retrying', 5_000, false],
    ['NodeRevoked', 'Running', true, 'Running', 3, true, 'AgentLost', 'Failed', null, true],
    ['NodeRevoked', 'Cancelling', true, 'Cancelled', 0, true, 'AgentLost', 'rejected', null, false],
    ['DeadlinePassed', 'Running', true, 'Running', 0, true, 'Timeout', 'Retrying', 5_000, false],
    ['DeadlinePassed', 'Running', true, 'Running', 3, true, 'Timeout', 'Timeout', null, true],
    ['DeadlinePassed', 'Running', true, 'Running', 0, false, 'Timeout', 'Timeout', null, false],
    ['DeadlinePassed', 'Accepted', true, 'Scheduled', 2, true, 'Timeout', 'Retrying', 120_000, false],
    ['DeadlinePassed', 'Cancelling', true, 'Cancelled', 0, true, 'Timeout', 'rejected', null, false],
    ['CommandRejected', 'Dispatched', true, 'Scheduled', 0, false, 'Failed', 'Retrying', 5_000, false],
    ['CommandRejected', 'Dispatched', true, 'Scheduled', 3, true, 'Failed', 'Failed', null, true],
    ['CommandRejected', 'Dispatched', false, 'Scheduled', 0, true, 'Failed', null, null, false],
  ] as const)(
    '%s of a %s execution (current %s) of a %s task, %i retries used, retry on timeout %s → %s, task %s',
    (
      cause,
      status,
      isCurrent,
      taskStatus,
      used,
      retryOnTimeout,
      toExecution,
      toTask,
      delayMs,
      maxReached,
    ) => {
      const decision = decideGiveUp(
        cause,
        { id: 'e1', status, isCurrent },
        task(taskStatus, used),
        context(retryOnTimeout),
      );
      expect(decision.kind).toBe('give-up');
      if (decision.kind !== 'give-up') return;
      expect(decision.executionStatus).toBe(toExecution);
      if (toTask === null) expect(decision.task).toBeNull();
      else if (toTask === 'rejected') expect(decision.task?.result.ok).toBe(false);
      else expect(decision.task?.result).toMatchObject({ ok: true, to: toTask });
      expect(decision.retryAt?.getTime() ?? null).toBe(delayMs === null ? null : now.getTime() + delayMs);
      expect(decision.maxRetriesReached).toBe(maxReached);
    },
  );

  it.each(['Completed', 'Failed', 'Timeout', 'Cancelled', 'AgentLost'] as const)(
    'leaves an execution already %s alone',
    (status) => {
      const decision = decideGiveUp(
        'NodeLost',
        { id: 'e1', status, isCurrent: true },
        task('Running'),
        context(),
      );
      expect(decision).toMatchObject({ kind: 'skip', reason: `execution already ${status}` });
    },
  );
});
