import { describe, expect, it } from 'vitest';
import { decideRetry, type Backoff, type RetryPolicy } from './retry-policy.js';

const fixed: RetryPolicy = {
  backoff: { kind: 'fixed', backoffSeconds: [5, 30, 120] },
  jitterRatio: 0.1,
  retryOnTimeout: true,
};
const exponential: Backoff = { kind: 'exponential', baseSeconds: 5, maxSeconds: 120 };
const now = new Date('2026-01-01T00:00:00Z');

function delayOf(policy: RetryPolicy, retriesUsed: number, random: number, taskBackoff?: Backoff) {
  const decision = decideRetry(policy, {
    retryable: true,
    retriesUsed,
    maxRetries: 10_000,
    now,
    random,
    taskBackoff,
  });
  if (!decision.retry) throw new Error(decision.reason);
  expect(decision.at.getTime()).toBe(now.getTime() + decision.delayMs);
  return decision.delayMs;
}

describe('decideRetry', () => {
  it.each([
    // retriesUsed, random, expected delay in ms (random 0.5 → no jitter)
    [0, 0.5, 5_000],
    [1, 0.5, 30_000],
    [2, 0.5, 120_000],
    [0, 0, 4_500],
    [0, 0.999_999, 5_500],
    [7, 0.5, 120_000], // more retries than steps: the last step repeats
  ])('fixed: retry %i with random %f waits %i ms', (retriesUsed, random, delayMs) => {
    expect(delayOf(fixed, retriesUsed, random)).toBe(delayMs);
  });

  it.each([
    // retriesUsed, random → delay: random × min(max, base × 2^n) (full jitter)
    [0, 0.5, 2_500],
    [0, 0.999, 4_995],
    [1, 0.5, 5_000],
    [2, 0.5, 10_000],
    [3, 0.5, 20_000],
    [4, 0.999, 79_920],
    [5, 0.999, 119_880], // 160 s capped at 120 s
    [30, 1, 120_000],
    [1000, 0.5, 60_000], // no overflow however many retries
    [3, 0, 0],
  ])('exponential: retry %i with random %f waits %i ms', (retriesUsed, random, delayMs) => {
    expect(delayOf({ ...fixed, backoff: exponential }, retriesUsed, random)).toBe(delayMs);
  });

  it.each([
    ['an exponential task in a fixed configuration', fixed, exponential, 2, 10_000],
    [
      'a fixed task in an exponential configuration',
      { ...fixed, backoff: exponential },
      { kind: 'fixed', backoffSeconds: [7] },
      2,
      7_000,
    ],
  ] as const)('uses the task’s own backoff: %s', (_name, policy, taskBackoff, retriesUsed, delayMs) => {
    expect(delayOf(policy, retriesUsed, 0.5, taskBackoff)).toBe(delayMs);
  });

  it.each([
    [false, 0, 3, 'not retryable', false],
    [false, 3, 3, 'not retryable', false],
    [true, 3, 3, 'all 3 retries used', true],
    [true, 4, 3, 'all 3 retries used', true],
    [true, 0, 0, 'all 0 retries used', true],
  ])(
    'retryable=%s used=%i max=%i → no retry (%s), max retries reached: %s',
    (retryable, retriesUsed, maxRetries, reason, maxRetriesReached) => {
      const decision = decideRetry(fixed, { retryable, retriesUsed, maxRetries, now, random: 0.5 });
      expect(decision).toMatchObject({ retry: false, maxRetriesReached });
      if (!decision.retry) expect(decision.reason).toContain(reason);
    },
  );
});
