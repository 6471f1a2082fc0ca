import { CronExpressionParser, type CronExpression } from 'cron-parser';
import type { TaskSchedule } from '@meridian/contracts/api/task';

export interface CronSpec {
  expression: string;
  timezone: string;
}

export type CronScheduleResult =
  | { ok: true; schedule: TaskSchedule; next: Date }
  | { ok: false; field: 'expression' | 'timezone'; message: string };

/** `H` (a hashed value) would need a seed to stay the same from one computation to the next. */
const HASHED_FIELD = /(?<![A-Za-z])H(?![A-Za-z])/;

/**
 * Checks a cron schedule: five fields (minute hour day-of-month month day-of-week), or six with
 * seconds first, in the syntax of cron-parser (ranges, steps, lists, names, `L`, `W`, `#`, `?`),
 * and an IANA time zone; the expression must have an occurrence after `now`, which is `next`.
 */
export function validateCronSchedule(spec: CronSpec, now: Date): CronScheduleResult {
  const expression = spec.expression.trim().replace(/\s+/g, ' ');
  const timezone = spec.timezone.trim();
  if (!isTimeZone(timezone)) {
    return { ok: false, field: 'timezone', message: `${JSON.stringify(timezone)} is not an IANA time zone` };
  }
  const fields = expression.split(' ').length;
  if (fields !== 5 && fields !== 6) {
    return {
      ok: false,
      field: 'expression',
      message: `must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got ${fields}`,
    };
  }
  if (HASHED_FIELD.test(expression)) {
    return { ok: false, field: 'expression', message: 'H (hashed values) is not supported' };
  }
  let interval: CronExpression;
  try {
    interval = parse({ expression, timezone }, now);
  } catch (error) {
    return {
      ok: false,
      field: 'expression',
      message: `is not a valid cron expression: ${(error as Error).message}`,
    };
  }
  const next = firstOf(interval);
  if (!next) return { ok: false, field: 'expression', message: 'has no occurrence' };
  return { ok: true, schedule: { strategy: 'cron', expression, timezone }, next };
}

/**
 * The schedule's first occurrence strictly after `after`, on the wall clock of its time zone:
 * across a spring-forward a time inside the skipped hour runs one hour later (02:30 → 03:30 in
 * America/New_York), across a fall-back a time inside the repeated hour runs once (the first), and
 * schedules of every hour or every few minutes keep their spacing in real time. Null when the
 * expression has no further occurrence (or no longer parses).
 */
export function nextOccurrence(spec: CronSpec, after: Date): Date | null {
  try {
    return firstOf(parse(spec, after));
  } catch {
    return null;
  }
}

function parse(spec: CronSpec, after: Date): CronExpression {
  return CronExpressionParser.parse(spec.expression, { currentDate: after, tz: spec.timezone });
}

/** The library gives up (throws) after a bounded search, e.g. for the 30th of February. */
function firstOf(interval: CronExpression): Date | null {
  try {
    return interval.next().toDate();
  } catch {
    return null;
  }
}

/** What `Intl` (and so the cron library, through Luxon) knows as a time zone: IANA names and their aliases. */
export function isTimeZone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
