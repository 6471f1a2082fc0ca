import type { TaskRetryPolicy } from '@meridian/contracts/api/task';
import { assertNever } from './assert-never.js';

/** How long to wait before automatic retry n: the configured default, or a task's own. */
export type Backoff =
  | {
      kind: 'fixed';
      /** Delays in seconds before automatic retry n (0-based); the last one repeats. */
      backoffSeconds: readonly number[];
    }
  | {
      kind: 'exponential';
      /** Full jitter: a delay drawn between 0 and min(maxSeconds, baseSeconds × 2^n). */
      baseSeconds: number;
      maxSeconds: number;
    };

export interface RetryPolicy {
  /** The backoff of a task that names none. */
  backoff: Backoff;
  /** Fraction of a fixed delay added or removed at random, so that retries of a batch spread out. */
  jitterRatio: number;
  /** A timed-out execution uses one of its task's retries (true) or ends the task Timeout (false). */
  retryOnTimeout: boolean;
}

export type RetryDecision =
  | { retry: true; at: Date; delayMs: number }
  | {
      retry: false;
      reason: string;
      /** A retryable failure that found every retry used: recorded as `MaxRetriesReached`. */
      maxRetriesReached: boolean;
    };

export interface RetryInput {
  retryable: boolean;
  retriesUsed: number;
  maxRetries: number;
  now: Date;
  /** A number in [0, 1): the caller's randomness, so that this function stays pure. */
  random: number;
  /** The task's own backoff, if it has one. */
  taskBackoff?: TaskRetryPolicy | Backoff | null;
}

export function decideRetry(policy: RetryPolicy, input: RetryInput): RetryDecision {
  if (!input.retryable) {
    return { retry: false, reason: 'the failure is not retryable', maxRetriesReached: false };
  }
  if (input.retriesUsed >= input.maxRetries) {
    return { retry: false, reason: `all ${input.maxRetries} retries used`, maxRetriesReached: true };
  }
  const delayMs = backoffDelayMs(input.taskBackoff ?? policy.backoff, policy.jitterRatio, input);
  return { retry: true, at: new Date(input.now.getTime() + delayMs), delayMs };
}

/** The delay before retry number `retriesUsed` (0-based) under one backoff. */
export function backoffDelayMs(
  backoff: Backoff,
  jitterRatio: number,
  { retriesUsed, random }: { retriesUsed: number; random: number },
): number {
  switch (backoff.kind) {
    case 'fixed': {
      const steps = backoff.backoffSeconds;
      const base = steps.length === 0 ? 0 : (steps[Math.min(retriesUsed, steps.length - 1)] ?? 0);
      const jitter = base * jitterRatio * (random * 2 - 1);
      return Math.max(0, Math.round((base + jitter) * 1000));
    }
    case 'exponential': {
      // 2^n overflows nothing here: past 2^40 the cap has long applied.
      const ceiling = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.min(retriesUsed, 40));
      return Math.round(random * ceiling * 1000);
    }
    default:
      return assertNever(backoff);
  }
}
