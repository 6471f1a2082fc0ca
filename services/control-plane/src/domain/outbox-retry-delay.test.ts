import { describe, expect, it } from 'vitest';
import { OUTBOX_RETRY_BACKOFF, outboxRetryDelayMs } from './outbox-retry-delay.js';

describe('outboxRetryDelayMs', () => {
  it.each([
    // failures, random, expected ms (base 250, cap 5000)
    [1, 0, 125],
    [1, 0.5, 188],
    [1, 0.999, 250],
    [2, 0, 250],
    [2, 0.999, 500],
    [3, 0.5, 750],
    [4, 0.999, 1999],
    [5, 0, 2000],
    [5, 0.999, 3998],
    [6, 0, 2500],
    [6, 0.999, 4998],
    [7, 0.999, 4998],
    [50, 0.5, 3750],
    [5000, 0.999, 4998],
    // a count below 1 (never stored that way) waits like the first failure
    [0, 0.999, 250],
  ])('after %i failures with random %f waits %i ms', (failures, random, expected) => {
    expect(outboxRetryDelayMs(failures, random)).toBe(expected);
  });

  it.each([1, 2, 3, 10, 100])('stays within [cap/2, cap] of its step after %i failures', (failures) => {
    const ceiling = Math.min(OUTBOX_RETRY_BACKOFF.maxMs, OUTBOX_RETRY_BACKOFF.baseMs * 2 ** (failures - 1));
    for (const random of [0, 0.25, 0.5, 0.75, 0.9999]) {
      const delay = outboxRetryDelayMs(failures, random);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('takes other bounds', () => {
    expect(outboxRetryDelayMs(3, 0.999, { baseMs: 100, maxMs: 300 })).toBe(300);
    expect(outboxRetryDelayMs(1, 0, { baseMs: 100, maxMs: 300 })).toBe(50);
  });
});
