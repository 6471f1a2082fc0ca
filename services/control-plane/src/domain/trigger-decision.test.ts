import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type TaskStatus } from '@meridian/contracts/api/task';
import { MAX_QUEUED_RUNS } from '@meridian/contracts/api/task-run';
import { decideTrigger } from './trigger-decision.js';

type Expected = 'start' | 'queue' | 'in progress' | 'paused' | 'cancelled' | 'refused';

/** Every status, without and with `queue`. */
const TABLE: Record<TaskStatus, [Expected, Expected]> = {
  Created: ['refused', 'refused'],
  Pending: ['in progress', 'queue'],
  Scheduled: ['in progress', 'queue'],
  Running: ['in progress', 'queue'],
  Retrying: ['in progress', 'queue'],
  Completed: ['start', 'start'],
  Failed: ['start', 'start'],
  Timeout: ['start', 'start'],
  Cancelled: ['cancelled', 'cancelled'],
  Paused: ['paused', 'paused'],
};

const MESSAGE: Record<Exclude<Expected, 'start' | 'queue'>, RegExp> = {
  'in progress': /a run is in progress; send "queue": true/,
  paused: /Paused: resume it/,
  cancelled: /Cancelled: a cancelled task does not run again/,
  refused: /Trigger is not allowed in status Created/,
};

const cases = TASK_STATUSES.flatMap((status) =>
  ([false, true] as const).map((queue) => [status, queue, TABLE[status][queue ? 1 : 0]] as const),
);

describe('decideTrigger', () => {
  it.each(cases)('%s with queue=%s: %s', (status, queue, expected) => {
    const decision = decideTrigger({ status, queuedRunCount: 0, pauseRequested: false }, queue);
    if (expected === 'start') {
      expect(decision).toEqual({ ok: true, from: status, to: 'Pending', queued: false });
    } else if (expected === 'queue') {
      expect(decision).toEqual({ ok: true, from: status, to: status, queued: true });
    } else {
      expect(decision.ok).toBe(false);
      if (!decision.ok) expect(decision.message).toMatch(MESSAGE[expected]);
    }
  });

  it.each([
    [MAX_QUEUED_RUNS - 1, true],
    [MAX_QUEUED_RUNS, false],
  ])('queues behind a Running task holding %i queued runs: %s', (queuedRunCount, ok) => {
    const decision = decideTrigger({ status: 'Running', queuedRunCount, pauseRequested: false }, true);
    expect(decision.ok).toBe(ok);
    if (!decision.ok) expect(decision.message).toMatch(/already has 10 runs queued/);
  });

  it('starts a finished task whatever runs are queued: none is waiting for a node', () => {
    const decision = decideTrigger(
      { status: 'Completed', queuedRunCount: MAX_QUEUED_RUNS, pauseRequested: false },
      true,
    );
    expect(decision).toMatchObject({ ok: true, to: 'Pending', queued: false });
  });

  it.each([false, true])('refuses a task being paused (queue=%s), as it refuses a paused one', (queue) => {
    const decision = decideTrigger({ status: 'Running', queuedRunCount: 0, pauseRequested: true }, queue);
    expect(decision.ok).toBe(false);
    if (!decision.ok) expect(decision.message).toMatch(queue ? /being paused/ : /in progress/);
  });
});
