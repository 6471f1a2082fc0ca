import type { RescheduleBody, RescheduleStrategy } from '@meridian/contracts/api/reschedule';
import type { TaskSchedule } from '@meridian/contracts/api/task';
import { backoffDelay } from './backoff-delay.js';
import { validateCronSchedule } from './cron-schedule.js';
import { parseDelay } from './delay.js';
import { InvalidFieldError } from './errors.js';

/** What a reschedule request asks for, its fields parsed and checked. */
export type ReschedulePlan =
  | { kind: 'once'; strategy: Exclude<RescheduleStrategy, 'cron'>; delayMs: number }
  | { kind: 'cron'; strategy: 'cron'; schedule: TaskSchedule; next: Date };

function delayOf(field: string, text: string): number {
  const parsed = parseDelay(text);
  if (!parsed.ok) throw new InvalidFieldError(field, parsed.message);
  return parsed.ms;
}

/**
 * Parses a reschedule body into a plan at `now`; `random` draws the backoff's jitter. Throws
 * InvalidFieldError naming the field (`delay`, `baseDelay`, `maxDelay`, `expression`, `timezone`).
 */
export function planReschedule(body: RescheduleBody, now: Date, random: () => number): ReschedulePlan {
  switch (body.strategy) {
    case 'immediate':
      return { kind: 'once', strategy: body.strategy, delayMs: 0 };
    case 'delayed':
      return { kind: 'once', strategy: body.strategy, delayMs: delayOf('delay', body.delay) };
    case 'exponential_backoff': {
      const backoff = backoffDelay(
        {
          baseDelayMs: delayOf('baseDelay', body.baseDelay),
          maxDelayMs: delayOf('maxDelay', body.maxDelay),
          currentRetryCount: body.currentRetryCount,
        },
        random,
      );
      if (!backoff.ok) throw new InvalidFieldError(backoff.field, backoff.message);
      return { kind: 'once', strategy: body.strategy, delayMs: backoff.delayMs };
    }
    case 'cron': {
      const checked = validateCronSchedule({ expression: body.expression, timezone: body.timezone }, now);
      if (!checked.ok) throw new InvalidFieldError(checked.field, checked.message);
      return { kind: 'cron', strategy: 'cron', schedule: checked.schedule, next: checked.next };
    }
  }
}
