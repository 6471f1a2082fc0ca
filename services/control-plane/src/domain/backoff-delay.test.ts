import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff-delay.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('backoffDelay', () => {
  it.each([
    // base, max, retry count, random → unjittered, delay (random 0.5: no jitter; 0: −10 %; →1: +10 %)
    [MINUTE, HOUR, 2, 0.5, 4 * MINUTE, 4 * MINUTE], // seed 000's example
    [MINUTE, HOUR, 0, 0.5, MINUTE, MINUTE],
    [MINUTE, HOUR, 1, 0.5, 2 * MINUTE, 2 * MINUTE],
    [MINUTE, HOUR, 5, 0.5, 32 * MINUTE, 32 * MINUTE],
    [MINUTE, HOUR, 6, 0.5, HOUR, HOUR], // 64 min capped at 1 h
    [MINUTE, HOUR, 2, 0, 4 * MINUTE, 216 * SECOND], // 4 min − 10 %
    [MINUTE, HOUR, 2, 0.999_999, 4 * MINUTE, 264 * SECOND], // just under 4 min + 10 %
    [MINUTE, HOUR, 2, 0.75, 4 * MINUTE, 252 * SECOND], // + 5 %
    [MINUTE, HOUR, 6, 0.999_999, HOUR, HOUR], // the jitter never goes above maxDelay
    [MINUTE, HOUR, 6, 0, HOUR, 54 * MINUTE], // but may go below it
    [MINUTE, HOUR, 64, 0.5, HOUR, HOUR], // 2^64 does not overflow past the cap
    [MINUTE, HOUR, 64, 0.999_999, HOUR, HOUR],
    [MINUTE, MINUTE, 3, 0.999_999, MINUTE, MINUTE], // max = base
    [SECOND, 366 * 24 * HOUR, 64, 0.5, 366 * 24 * HOUR, 366 * 24 * HOUR],
  ])(
    'base %i, max %i, count %i, random %f → %i before jitter, %i after',
    (base, max, count, random, unjittered, delay) => {
      const result = backoffDelay(
        { baseDelayMs: base, maxDelayMs: max, currentRetryCount: count },
        () => random,
      );
      expect(result).toEqual({ ok: true, unjitteredMs: unjittered, delayMs: delay });
    },
  );

  it('keeps every jittered delay within ±10 % and never above maxDelay', () => {
    for (let count = 0; count <= 64; count += 1) {
      for (const random of [0, 0.1, 0.25, 0.5, 0.9, 0.999_999]) {
        const result = backoffDelay(
          { baseDelayMs: 7 * SECOND, maxDelayMs: HOUR, currentRetryCount: count },
          () => random,
        );
        if (!result.ok) throw new Error(result.message);
        expect(result.delayMs).toBeLessThanOrEqual(HOUR);
        expect(result.delayMs).toBeGreaterThanOrEqual(Math.floor(result.unjitteredMs * 0.9));
        expect(result.delayMs).toBeLessThanOrEqual(Math.ceil(result.unjitteredMs * 1.1));
      }
    }
  });

  it('refuses a maxDelay below baseDelay, naming maxDelay', () => {
    expect(backoffDelay({ baseDelayMs: HOUR, maxDelayMs: MINUTE, currentRetryCount: 0 }, () => 0.5)).toEqual({
      ok: false,
      field: 'maxDelay',
      message: 'must be at least baseDelay',
    });
  });
});
