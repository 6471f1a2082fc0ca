import { describe, expect, it } from 'vitest';
import { decideRetry } from './retry-policy.js';

const policy = { backoffSeconds: [5, 30, 120], jitterRatio: 0.1 };
const now = new Date('2026-01-01T00:00:00Z');

describe('decideRetry', () => {
  it.each([
    // retriesUsed, random, expected delay in ms (random 0.5 → no jitter)
    [0, 0.5, 5_000],
    [1, 0.5, 30_000],
    [2, 0.5, 120_000],
    [0, 0, 4_500],
    [0, 0.999_999, 5_500],
  ])('retry %i with random %f waits %i ms', (retriesUsed, random, delayMs) => {
    const decision = decideRetry(policy, { retryable: true, retriesUsed, maxRetries: 3, now, random });
    expect(decision.retry).toBe(true);
    if (decision.retry) {
      expect(decision.delayMs).toBe(delayMs);
      expect(decision.at.getTime()).toBe(now.getTime() + delayMs);
    }
  });

  it('repeats the last step when retries outnumber the steps', () => {
    const decision = decideRetry(policy, {
      retryable: true,
      retriesUsed: 7,
      maxRetries: 10,
      now,
      random: 0.5,
    });
    expect(decision).toMatchObject({ retry: true, delayMs: 120_000 });
  });

  it.each([
    [false, 0, 3, 'not retryable'],
    [true, 3, 3, 'all 3 retries used'],
    [true, 0, 0, 'all 0 retries used'],
  ])('retryable=%s used=%i max=%i → no retry (%s)', (retryable, retriesUsed, maxRetries, reason) => {
    const decision = decideRetry(policy, { retryable, retriesUsed, maxRetries, now, random: 0.5 });
    expect(decision.retry).toBe(false);
    if (!decision.retry) expect(decision.reason).toContain(reason);
  });
});
