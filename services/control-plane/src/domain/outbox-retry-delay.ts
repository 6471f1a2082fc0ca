/** Bounds of the wait before an outbox row whose publish failed is published again. */
export interface OutboxRetryBackoff {
  /** The wait after the first failure, before jitter. */
  baseMs: number;
  /** No wait is longer: once the broker is back, every row goes out within this time. */
  maxMs: number;
}

/**
 * A few seconds at most: a command that waits for the broker is a task that waits to start, and
 * the relay does not claim rows at all while the broker connection is down (it is woken when it
 * comes back), so the backoff only spreads the retries of rows whose publish failed.
 */
export const OUTBOX_RETRY_BACKOFF: OutboxRetryBackoff = { baseMs: 250, maxMs: 5000 };

/**
 * The wait before the next publish of a row that has failed `failures` times (1 after the first
 * failure): exponential (base · 2^(failures−1)), capped at `maxMs`, then "equal jitter" (between
 * half and all of it), so that rows that failed together spread out without any of them being
 * retried at once. `random` is in [0, 1).
 */
export function outboxRetryDelayMs(
  failures: number,
  random: number,
  backoff: OutboxRetryBackoff = OUTBOX_RETRY_BACKOFF,
): number {
  const exponent = Math.max(0, Math.floor(failures) - 1);
  // 2 ** exponent overflows to Infinity for absurd counts: Math.min keeps the cap.
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
  const clamped = Math.min(Math.max(random, 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * clamped);
}
