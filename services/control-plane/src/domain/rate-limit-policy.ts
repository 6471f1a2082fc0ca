/**
 * Seed 000's limits on triggers, executes and reschedules, as fixed windows aligned to the clock
 * (an hour starts at :00, a minute at :00 seconds). Every replica computes the same window for the
 * same instant, so that their counts land on one row per (limit, subject, window) in PostgreSQL.
 */

export interface TriggerLimits {
  perUserPerHour: number;
  perTaskPerHour: number;
  perOrgPerHour: number;
  systemPerMinute: number;
}

/** The limits in the order a refusal names them: the first one exceeded is the one reported. */
export const RATE_LIMIT_NAMES = ['per-user', 'per-task', 'per-org', 'system'] as const;
export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];

const HOUR_SECONDS = 3600;
const MINUTE_SECONDS = 60;

/**
 * How long a window's row outlives the window: a replica whose clock lags a little behind still
 * counts into that row instead of re-creating it after the retention sweep deleted it.
 */
export const WINDOW_RETENTION_GRACE_SECONDS = 300;

/** What one request adds to one counter. */
export interface RateLimitCharge {
  name: RateLimitName;
  /** Whose counter: `org:user`, `org:task`, `org` or `system`. */
  subject: string;
  limit: number;
  windowSeconds: number;
  windowStart: Date;
  windowEnd: Date;
  /** When the retention sweep may delete the counter's row. */
  expiresAt: Date;
  /** Hits this request adds (one per item). */
  hits: number;
  /** The task of a `per-task` charge. */
  taskId?: string;
}

/** Header values of the limit that constrains the caller most (RateLimit-Limit/Remaining/Reset). */
export interface RateLimitStatus {
  name: RateLimitName;
  limit: number;
  /** Hits left in the window after this request. */
  remaining: number;
  /** Whole seconds until the window ends (at least 1). */
  resetSeconds: number;
  windowSeconds: number;
}

/** The limit a request would exceed; nothing of the request is counted. */
export interface RateLimitExceeded {
  name: RateLimitName;
  subject: string;
  /** The task of a `per-task` limit. */
  taskId?: string;
  limit: number;
  windowSeconds: number;
  /** Hits already counted in the window before this request. */
  used: number;
  /** Hits this request asked for. */
  requested: number;
  retryAfterSeconds: number;
  /** Header values: this limit, what is left of it (a smaller request may still fit). */
  status: RateLimitStatus;
}

export type RateLimitDecision =
  { allowed: true; status: RateLimitStatus } | { allowed: false; exceeded: RateLimitExceeded };

/** The fixed window of `windowSeconds` holding `now`: start = floor(now / window). */
export function windowOf(now: Date, windowSeconds: number): { start: Date; end: Date } {
  const windowMs = windowSeconds * 1000;
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start: new Date(start), end: new Date(start + windowMs) };
}

/** Whole seconds from `now` until `end`, rounded up and never 0 (a client waits at least a second). */
export function secondsUntil(now: Date, end: Date): number {
  return Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000));
}

/**
 * The counters a call on `taskIds` (one id per item, repeats allowed) adds to: `n` hits on the
 * caller's user, org and the system, and per distinct task the number of its items. Subjects carry
 * the caller's org, so that ids of another org's tasks count against the caller only. Returned in
 * naming order (per-user, per-task by task id, per-org, system).
 */
export function triggerLimitCharges(
  limits: TriggerLimits,
  caller: { orgId: string; userId: string },
  taskIds: readonly string[],
  now: Date,
): RateLimitCharge[] {
  const n = taskIds.length;
  if (n === 0) return [];
  const charge = (
    name: RateLimitName,
    subject: string,
    limit: number,
    windowSeconds: number,
    hits: number,
  ): RateLimitCharge => {
    const { start, end } = windowOf(now, windowSeconds);
    const expiresAt = new Date(end.getTime() + WINDOW_RETENTION_GRACE_SECONDS * 1000);
    return { name, subject, limit, windowSeconds, windowStart: start, windowEnd: end, expiresAt, hits };
  };
  const itemsPerTask = new Map<string, number>();
  for (const taskId of taskIds) itemsPerTask.set(taskId, (itemsPerTask.get(taskId) ?? 0) + 1);
  const perTask = [...itemsPerTask.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([taskId, hits]) => ({
      ...charge('per-task', `${caller.orgId}:${taskId}`, limits.perTaskPerHour, HOUR_SECONDS, hits),
      taskId,
    }));
  return [
    charge('per-user', `${caller.orgId}:${caller.userId}`, limits.perUserPerHour, HOUR_SECONDS, n),
    ...perTask,
    charge('per-org', caller.orgId, limits.perOrgPerHour, HOUR_SECONDS, n),
    charge('system', 'system', limits.systemPerMinute, MINUTE_SECONDS, n),
  ];
}

/**
 * Decides a request from its charges and the counts they reached (`hitsAfter[i]` = the window's
 * hits of `charges[i]` including this request's). Refused when any count passes its limit: the
 * first such charge in the given order is named. Allowed: the status of the charge with the fewest
 * hits remaining (the first of equals).
 */
export function decideRateLimit(
  charges: readonly RateLimitCharge[],
  hitsAfter: readonly number[],
  now: Date,
): RateLimitDecision {
  if (charges.length === 0) throw new Error('a rate-limit decision needs at least one charge');
  if (hitsAfter.length !== charges.length) throw new Error('one count per charge is needed');
  const statusOf = (charge: RateLimitCharge, remaining: number): RateLimitStatus => ({
    name: charge.name,
    limit: charge.limit,
    remaining: Math.max(0, remaining),
    resetSeconds: secondsUntil(now, charge.windowEnd),
    windowSeconds: charge.windowSeconds,
  });
  let tightest: RateLimitStatus | undefined;
  for (const [index, charge] of charges.entries()) {
    const after = hitsAfter[index]!;
    if (after > charge.limit) {
      const used = after - charge.hits;
      const status = statusOf(charge, charge.limit - used);
      return {
        allowed: false,
        exceeded: {
          name: charge.name,
          subject: charge.subject,
          ...(charge.taskId === undefined ? {} : { taskId: charge.taskId }),
          limit: charge.limit,
          windowSeconds: charge.windowSeconds,
          used,
          requested: charge.hits,
          retryAfterSeconds: status.resetSeconds,
          status,
        },
      };
    }
    const status = statusOf(charge, charge.limit - after);
    if (tightest === undefined || status.remaining < tightest.remaining) tightest = status;
  }
  return { allowed: true, status: tightest! };
}

/** "per hour", "per minute", "per 90 seconds". */
export function windowWords(windowSeconds: number): string {
  if (windowSeconds === HOUR_SECONDS) return 'per hour';
  if (windowSeconds === MINUTE_SECONDS) return 'per minute';
  return `per ${windowSeconds} seconds`;
}
