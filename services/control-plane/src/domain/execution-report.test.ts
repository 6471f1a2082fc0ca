import { describe, expect, it } from 'vitest';
import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { TaskStatus } from '@meridian/contracts/api/task';
import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import { decideReport } from './execution-report.js';
import type { RetryPolicy } from './retry-policy.js';

const now = new Date('2026-01-01T00:00:00Z');
const retryPolicy: RetryPolicy = {
  backoff: { kind: 'fixed', backoffSeconds: [5, 30, 120] },
  jitterRatio: 0.1,
  retryOnTimeout: true,
};
const context = { now, random: 0.5, retryPolicy };
const ids = {
  taskId: '00000000-0000-4000-8000-000000000001',
  executionId: '00000000-0000-4000-8000-000000000002',
};

function report(
  type: ExecutionReport['type'],
  sequence: number,
  fields: Record<string, unknown> = {},
  nodeId = 'n1',
) {
  return {
    messageId: '00000000-0000-4000-8000-000000000003',
    type,
    schemaVersion: 1,
    occurredAt: now.toISOString(),
    correlationId: 'c',
    nodeId,
    payload: { ...ids, sequence, ...fields },
  } as ExecutionReport;
}

const execution = (status: ExecutionStatus, lastSequence = -1) => ({
  id: ids.executionId,
  nodeId: 'n1',
  status,
  lastSequence,
});
const task = (status: TaskStatus, retryCount = 0, maxRetries = 3) => ({
  status,
  retryCount,
  maxRetries,
  retryPolicy: null,
});

describe('decideReport', () => {
  it.each([
    // report, execution status, task status → execution status, released, task status (null: task unchanged)
    ['TaskAccepted', 'Dispatched', 'Scheduled', 'Accepted', false, null],
    ['TaskStarted', 'Accepted', 'Scheduled', 'Running', false, 'Running'],
    ['TaskProgress', 'Running', 'Running', 'Running', false, null],
    ['TaskCompleted', 'Running', 'Running', 'Completed', true, 'Completed'],
    ['TaskCompleted', 'Dispatched', 'Scheduled', 'Completed', true, 'Completed'],
    ['TaskCancelled', 'Cancelling', 'Cancelled', 'Cancelled', true, null],
    ['TaskStarted', 'Cancelling', 'Cancelled', 'Cancelling', false, 'rejected'],
    ['TaskCompleted', 'Cancelling', 'Cancelled', 'Completed', true, 'rejected'],
  ] as const)(
    '%s on execution %s / task %s → %s (released %s), task %s',
    (type, execStatus, taskStatus, toExec, released, toTask) => {
      const fields =
        type === 'TaskCompleted'
          ? { exitCode: 0, durationMs: 1 }
          : type === 'TaskProgress'
            ? { percent: 50 }
            : {};
      const decision = decideReport(
        report(type, 1, fields),
        execution(execStatus, 0),
        task(taskStatus),
        context,
      );
      expect(decision.kind).toBe('applied');
      if (decision.kind !== 'applied') return;
      expect(decision.execution).toEqual({ status: toExec, lastSequence: 1, release: released });
      if (toTask === null) expect(decision.task).toBeNull();
      else if (toTask === 'rejected') expect(decision.task?.result.ok).toBe(false);
      else expect(decision.task?.result).toMatchObject({ ok: true, to: toTask });
    },
  );

  it.each([
    ['a stale sequence', report('TaskStarted', 1), execution('Running', 1), /stale/],
    ['a report from another node', report('TaskStarted', 1, {}, 'n2'), execution('Accepted', 0), /node n2/],
    ['a finished execution', report('TaskStarted', 5), execution('Completed', 2), /already Completed/],
  ])('ignores %s', (_name, r, e, reason) => {
    const decision = decideReport(r, e, task('Running'), context);
    expect(decision.kind).toBe('ignored');
    if (decision.kind === 'ignored') expect(decision.reason).toMatch(reason);
  });

  it.each([
    ['TaskStarted', { startedAt: null }, 1, 3, 'late'],
    ['TaskAccepted', { acceptedAt: null }, 1, 3, 'late'],
    ['TaskStarted', { startedAt: new Date() }, 1, 3, 'ignored'], // a copy of one already recorded
    ['TaskStarted', {}, 1, 3, 'ignored'], // the caller does not know: stale
    ['TaskStarted', { startedAt: null }, 3, 3, 'ignored'], // the very report already applied
    ['TaskProgress', { startedAt: null, acceptedAt: null }, 2, 3, 'ignored'],
    ['TaskAccepted', { startedAt: null }, 1, 3, 'ignored'],
  ] as const)(
    'a %s with %o at sequence %i after %i was applied is %s',
    (type, recorded, sequence, lastSequence, kind) => {
      const r = report(type, sequence, type === 'TaskProgress' ? { percent: 1 } : {});
      const decision = decideReport(
        r,
        { ...execution('Completed', lastSequence), ...recorded },
        task('Completed'),
        context,
      );
      expect(decision.kind).toBe(kind);
    },
  );

  it.each([
    // name, report fields, retries used, retry on timeout → task status, delay, MaxRetriesReached
    ['retryable with retries left', { retryable: true }, 0, true, 'Retrying', 5_000, false],
    ['retryable, none left', { retryable: true }, 3, true, 'Failed', null, true],
    ['not retryable', { retryable: false }, 0, true, 'Failed', null, false],
    ['not retryable, none left', { retryable: false }, 3, true, 'Failed', null, false],
    ['timed out, retries left', { retryable: true, timedOut: true }, 1, true, 'Retrying', 30_000, false],
    ['timed out, none left', { retryable: true, timedOut: true }, 3, true, 'Timeout', null, true],
    [
      'timed out, timeouts not retried',
      { retryable: true, timedOut: true },
      0,
      false,
      'Timeout',
      null,
      false,
    ],
  ])(
    'a failure %s → %s',
    (_name, fields, retriesUsed, retryOnTimeout, toTask, delayMs, maxRetriesReached) => {
      const r = report('TaskFailed', 3, { error: 'x', exitCode: 1, ...fields });
      const decision = decideReport(r, execution('Running', 2), task('Running', retriesUsed), {
        ...context,
        retryPolicy: { ...retryPolicy, retryOnTimeout },
      });
      expect(decision.kind).toBe('applied');
      if (decision.kind !== 'applied') return;
      expect(decision.task?.result).toMatchObject({ ok: true, to: toTask });
      expect(decision.retryAt?.getTime() ?? null).toBe(delayMs === null ? null : now.getTime() + delayMs);
      expect(decision.execution.release).toBe(true);
      expect(decision.maxRetriesReached).toBe(maxRetriesReached);
    },
  );

  it('retries under the task’s own backoff', () => {
    const r = report('TaskFailed', 3, { error: 'x', exitCode: 1, retryable: true });
    const own = {
      ...task('Running', 2),
      retryPolicy: { kind: 'exponential', baseSeconds: 10, maxSeconds: 30 },
    };
    const decision = decideReport(r, execution('Running', 2), own as never, context);
    // min(30, 10 × 2²) × 0.5
    expect(decision).toMatchObject({ kind: 'applied', retryAt: new Date(now.getTime() + 15_000) });
  });

  it('records no MaxRetriesReached when the task refuses the failure (already cancelled)', () => {
    const r = report('TaskFailed', 3, { error: 'x', exitCode: 1, retryable: true });
    const decision = decideReport(r, execution('Running', 2), task('Cancelled', 3), context);
    expect(decision).toMatchObject({ kind: 'applied', maxRetriesReached: false });
  });

  it.each([
    // report, execution status → cancel the execution on the node?
    ['TaskAccepted', 'AgentLost', true],
    ['TaskStarted', 'AgentLost', true],
    ['TaskProgress', 'AgentLost', true],
    ['TaskProgress', 'Timeout', true],
    ['TaskCompleted', 'AgentLost', false],
    ['TaskFailed', 'AgentLost', false],
    ['TaskCancelled', 'AgentLost', false],
    ['TaskProgress', 'Completed', false],
    ['TaskProgress', 'Failed', false],
    ['TaskProgress', 'Cancelled', false],
  ] as const)(
    'a late %s for a %s execution is ignored; cancel it on the node: %s',
    (type, status, cancel) => {
      const fields =
        type === 'TaskCompleted'
          ? { exitCode: 0, durationMs: 1 }
          : type === 'TaskFailed'
            ? { error: 'x', exitCode: 1, retryable: true }
            : type === 'TaskProgress'
              ? { percent: 50 }
              : {};
      const decision = decideReport(
        report(type, 4, fields),
        execution(status, 1),
        task('Scheduled'),
        context,
      );
      expect(decision.kind).toBe('ignored');
      if (decision.kind !== 'ignored') return;
      expect(decision.reason).toContain(`already ${status}`);
      expect(decision.cancelExecution ?? false).toBe(cancel);
    },
  );

  it('does not cancel on a stale (already applied) report of a given-up execution', () => {
    const decision = decideReport(
      report('TaskProgress', 1, { percent: 5 }),
      execution('AgentLost', 1),
      task('Scheduled'),
      context,
    );
    expect(decision.kind).toBe('ignored');
    if (decision.kind !== 'ignored') return;
    expect(decision.reason).toMatch(/stale/);
    expect(decision.cancelExecution).toBeUndefined();
  });

  it('counts a cancel nobody asked for (agent shutting down) as a retryable failure', () => {
    const decision = decideReport(
      report('TaskCancelled', 2),
      execution('Running', 1),
      task('Running'),
      context,
    );
    expect(decision).toMatchObject({ kind: 'applied', execution: { status: 'Cancelled', release: true } });
    if (decision.kind === 'applied')
      expect(decision.task?.result).toMatchObject({ ok: true, to: 'Retrying' });
  });
});
