export interface RetryPolicy {
  /** Delays in seconds before automatic retry n (0-based); the last one repeats. */
  backoffSeconds: readonly number[];
  /** Fraction of the delay added or removed at random, so that retries of a batch spread out. */
  jitterRatio: number;
}

export type RetryDecision = { retry: true; at: Date; delayMs: number } | { retry: false; reason: string };

export interface RetryInput {
  retryable: boolean;
  retriesUsed: number;
  maxRetries: number;
  now: Date;
  /** A number in [0, 1): the caller's randomness, so that this function stays pure. */
  random: number;
}

export function decideRetry(policy: RetryPolicy, input: RetryInput): RetryDecision {
  if (!input.retryable) return { retry: false, reason: 'the failure is not retryable' };
  if (input.retriesUsed >= input.maxRetries) {
    return { retry: false, reason: `all ${input.maxRetries} retries used` };
  }
  const steps = policy.backoffSeconds;
  const base = steps.length === 0 ? 0 : (steps[Math.min(input.retriesUsed, steps.length - 1)] ?? 0);
  const jitter = base * policy.jitterRatio * (input.random * 2 - 1);
  const delayMs = Math.max(0, Math.round((base + jitter) * 1000));
  return { retry: true, at: new Date(input.now.getTime() + delayMs), delayMs };
}
