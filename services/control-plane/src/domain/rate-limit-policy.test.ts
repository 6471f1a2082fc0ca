import { describe, expect, it } from 'vitest';
import {
  decideRateLimit,
  secondsUntil,
  triggerLimitCharges,
  windowOf,
  type RateLimitCharge,
  type TriggerLimits,
} from './rate-limit-policy.js';
import { RateLimitedError } from './rate-limited-error.js';

const limits: TriggerLimits = {
  perUserPerHour: 1000,
  perTaskPerHour: 100,
  perOrgPerHour: 5000,
  systemPerMinute: 10_000,
};
const caller = { orgId: 'org-a', userId: 'alice' };
const at = (iso: string) => new Date(iso);

describe('windowOf', () => {
  it.each([
    // now, window seconds, start, end
    ['2026-06-01T12:00:00.000Z', 3600, '2026-06-01T12:00:00.000Z', '2026-06-01T13:00:00.000Z'],
    ['2026-06-01T12:59:59.999Z', 3600, '2026-06-01T12:00:00.000Z', '2026-06-01T13:00:00.000Z'],
    ['2026-06-01T13:00:00.000Z', 3600, '2026-06-01T13:00:00.000Z', '2026-06-01T14:00:00.000Z'],
    ['2026-06-01T12:34:56.789Z', 60, '2026-06-01T12:34:00.000Z', '2026-06-01T12:35:00.000Z'],
    ['2026-06-01T12:34:00.000Z', 60, '2026-06-01T12:34:00.000Z', '2026-06-01T12:35:00.000Z'],
  ])('%s in a %is window is [%s, %s)', (now, seconds, start, end) => {
    expect(windowOf(at(now), seconds)).toEqual({ start: at(start), end: at(end) });
  });
});

describe('secondsUntil', () => {
  it.each([
    ['2026-06-01T12:00:00.000Z', '2026-06-01T13:00:00.000Z', 3600],
    ['2026-06-01T12:59:30.000Z', '2026-06-01T13:00:00.000Z', 30],
    ['2026-06-01T12:59:59.001Z', '2026-06-01T13:00:00.000Z', 1], // rounded up
    ['2026-06-01T12:59:29.500Z', '2026-06-01T13:00:00.000Z', 31],
    ['2026-06-01T13:00:00.000Z', '2026-06-01T13:00:00.000Z', 1], // never 0
  ])('from %s to %s is %i s', (now, end, seconds) => {
    expect(secondsUntil(at(now), at(end))).toBe(seconds);
  });
});

describe('triggerLimitCharges', () => {
  const now = at('2026-06-01T12:34:56.000Z');

  it('charges one call on one task to each of the four limits, in naming order', () => {
    const charges = triggerLimitCharges(limits, caller, ['t-1'], now);
    expect(charges.map((c) => [c.name, c.subject, c.limit, c.windowSeconds, c.hits])).toEqual([
      ['per-user', 'org-a:alice', 1000, 3600, 1],
      ['per-task', 'org-a:t-1', 100, 3600, 1],
      ['per-org', 'org-a', 5000, 3600, 1],
      ['system', 'system', 10_000, 60, 1],
    ]);
    expect(charges[1]!.taskId).toBe('t-1');
  });

  it('counts a bulk call of n items n for user, org and system, and per task its own items', () => {
    const charges = triggerLimitCharges(limits, caller, ['t-2', 't-1', 't-2', 't-3', 't-2'], now);
    expect(charges.map((c) => [c.name, c.subject, c.hits])).toEqual([
      ['per-user', 'org-a:alice', 5],
      ['per-task', 'org-a:t-1', 1],
      ['per-task', 'org-a:t-2', 3],
      ['per-task', 'org-a:t-3', 1],
      ['per-org', 'org-a', 5],
      ['system', 'system', 5],
    ]);
  });

  it('aligns the windows to the hour and the minute, and keeps each row a while after its window', () => {
    const [user, , , system] = triggerLimitCharges(limits, caller, ['t-1'], now);
    expect(user).toMatchObject({
      windowStart: at('2026-06-01T12:00:00.000Z'),
      windowEnd: at('2026-06-01T13:00:00.000Z'),
      expiresAt: at('2026-06-01T13:05:00.000Z'),
    });
    expect(system).toMatchObject({
      windowStart: at('2026-06-01T12:34:00.000Z'),
      windowEnd: at('2026-06-01T12:35:00.000Z'),
      expiresAt: at('2026-06-01T12:40:00.000Z'),
    });
  });

  it('charges nothing for no items', () => {
    expect(triggerLimitCharges(limits, caller, [], now)).toEqual([]);
  });
});

describe('decideRateLimit', () => {
  const small: TriggerLimits = {
    perUserPerHour: 10,
    perTaskPerHour: 3,
    perOrgPerHour: 20,
    systemPerMinute: 30,
  };
  // The hourly windows end in 75 s, the minute window in 15 s.
  const now = at('2026-06-01T12:58:45.000Z');
  const charges = triggerLimitCharges(small, caller, ['t-1', 't-1', 't-2'], now);
  // counts after adding: user, task t-1, task t-2, org, system (the call adds 3, 2, 1, 3, 3)
  type Row = [string, number[], string, number, number, number, number?];

  it.each<Row>([
    // case, hitsAfter, allowed or the limit named, header limit, remaining, reset s, retry-after s
    ['a first call: tightest is t-1 (1 left)', [3, 2, 1, 3, 3], 'allowed', 3, 1, 75],
    ['the system limit nearly spent', [3, 2, 1, 3, 30], 'allowed', 30, 0, 15],
    ['ties go to the first in order', [9, 2, 1, 19, 29], 'allowed', 10, 1, 75],
    ['user exactly at its limit', [10, 2, 1, 10, 10], 'allowed', 10, 0, 75],
    ['user over', [11, 2, 1, 11, 11], 'per-user', 10, 2, 75, 75],
    ['a task over', [5, 4, 1, 5, 5], 'per-task', 3, 1, 75, 75],
    ['the second task over', [5, 2, 4, 5, 5], 'per-task', 3, 0, 75, 75],
    ['org over', [5, 2, 1, 23, 5], 'per-org', 20, 0, 75, 75],
    ['system over: its own minute window', [5, 2, 1, 5, 31], 'system', 30, 2, 15, 15],
    [
      'user and system over: user named (its window ends last)',
      [11, 2, 1, 11, 31],
      'per-user',
      10,
      2,
      75,
      75,
    ],
  ])('%s', (_case, hitsAfter, outcome, limit, remaining, reset, retryAfter) => {
    const decision = decideRateLimit(charges, hitsAfter, now);
    if (outcome === 'allowed') {
      expect(decision.allowed).toBe(true);
      if (decision.allowed) expect(decision.status).toMatchObject({ limit, remaining, resetSeconds: reset });
      return;
    }
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.exceeded).toMatchObject({ name: outcome, limit, retryAfterSeconds: retryAfter });
    expect(decision.exceeded.status).toMatchObject({ name: outcome, limit, remaining, resetSeconds: reset });
  });

  it('reports what was used before the call and what it asked for', () => {
    const decision = decideRateLimit(charges, [5, 4, 1, 5, 5], now);
    expect(decision).toMatchObject({
      allowed: false,
      exceeded: { name: 'per-task', subject: 'org-a:t-1', taskId: 't-1', used: 2, requested: 2 },
    });
  });

  it('refuses a call larger than a limit even in an empty window', () => {
    const big = triggerLimitCharges(
      small,
      caller,
      Array.from({ length: 4 }, () => 't-9'),
      now,
    );
    const decision = decideRateLimit(big, [4, 4, 4, 4], now);
    expect(decision).toMatchObject({ allowed: false, exceeded: { name: 'per-task', used: 0, requested: 4 } });
  });

  it('needs one count per charge', () => {
    expect(() => decideRateLimit(charges, [1, 2], now)).toThrow(/one count per charge/);
    expect(() => decideRateLimit([] as RateLimitCharge[], [], now)).toThrow(/at least one charge/);
  });
});

describe('RateLimitedError', () => {
  const now = at('2026-06-01T12:00:00.000Z');
  const refusal = (taskIds: string[], hitsAfter: number[]) => {
    const decision = decideRateLimit(triggerLimitCharges(limits, caller, taskIds, now), hitsAfter, now);
    if (decision.allowed) throw new Error('expected a refusal');
    return new RateLimitedError(decision.exceeded);
  };

  it.each([
    [['t-1'], [1001, 1, 1, 1], 'per-user trigger limit of 1000 per hour reached'],
    [['t-1'], [1, 101, 1, 1], 'per-task trigger limit of 100 per hour reached for task t-1'],
    [['t-1'], [1, 1, 5001, 1], 'per-org trigger limit of 5000 per hour reached'],
    [['t-1'], [1, 1, 1, 10_001], 'system trigger limit of 10000 per minute reached'],
    [
      Array.from({ length: 101 }, () => 't-1'),
      [101, 101, 101, 101],
      'per-task trigger limit of 100 per hour reached for task t-1: this call counts 101, more than the limit allows',
    ],
  ])('names the limit: %j → %s', (taskIds, hitsAfter, message) => {
    const error = refusal(taskIds, hitsAfter);
    expect(error).toMatchObject({ code: 'rate_limited', message });
  });

  it('carries the limit, its window and the wait', () => {
    expect(refusal(['t-1'], [1, 1, 1, 10_001])).toMatchObject({
      limitName: 'system',
      limit: 10_000,
      windowSeconds: 60,
      retryAfterSeconds: 60,
      exceeded: { status: { limit: 10_000, remaining: 0, resetSeconds: 60 } },
    });
  });
});
