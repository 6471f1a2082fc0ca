/** Spread of the jitter around the exponential delay: ±10 %. */
export const BACKOFF_JITTER_RATIO = 0.1;

export interface BackoffInput {
  baseDelayMs: number;
  maxDelayMs: number;
  currentRetryCount: number;
}

export type BackoffResult =
  { ok: true; delayMs: number; unjitteredMs: number } | { ok: false; field: 'maxDelay'; message: string };

/**
 * The `exponential_backoff` reschedule (seed 000): min(maxDelay, baseDelay × 2^currentRetryCount),
 * then a jitter of ±10 % so that tasks rescheduled together do not all start at once; the result
 * never exceeds maxDelay nor falls below 0. `random` is in [0, 1); 0.5 gives no jitter.
 */
export function backoffDelay(input: BackoffInput, random: () => number): BackoffResult {
  const { baseDelayMs, maxDelayMs, currentRetryCount } = input;
  if (maxDelayMs < baseDelayMs) {
    return { ok: false, field: 'maxDelay', message: 'must be at least baseDelay' };
  }
  // 2 ** 64 × a year is still a finite double, so Math.min keeps the cap without overflow checks.
  const unjitteredMs = Math.min(maxDelayMs, baseDelayMs * 2 ** currentRetryCount);
  const spread = (Math.min(Math.max(random(), 0), 1) * 2 - 1) * BACKOFF_JITTER_RATIO;
  const delayMs = Math.round(Math.min(maxDelayMs, Math.max(0, unjitteredMs * (1 + spread))));
  return { ok: true, delayMs, unjitteredMs };
}
