import { CronExpressionParser, type CronExpression } from 'cron-parser';
import type { CronSpec } from './cron-schedule.js';

/**
 * How late an occurrence may be handled and still count as on time: a loop pass that runs a
 * little after the occurrence (POLL_INTERVAL_MS, a busy database) is not a misfire; an occurrence
 * older than this was missed (no control plane ran) and the misfire policy decides.
 */
export const MISFIRE_GRACE_MS = 60_000;

export interface DueOccurrences {
  /** Due, within the grace: fired whatever the misfire policy, oldest first. */
  onTime: Date[];
  /** Due, older than the grace: the latest `missedLimit` of them, oldest first. */
  missed: Date[];
}

/**
 * The occurrences of a schedule from `from` (its stored next run: an occurrence) through `now`, split
 * into on time and missed. They are those of `nextOccurrence` (cron-schedule.ts, with its DST
 * rules), walked forwards; the walk starts no earlier than needed for the latest `missedLimit`
 * missed ones, so its length is bounded however long the downtime was.
 */
export function dueOccurrences(
  spec: CronSpec,
  window: { from: Date; now: Date; graceMs?: number; missedLimit: number },
): DueOccurrences {
  const { from, now, missedLimit } = window;
  const graceStart = new Date(now.getTime() - (window.graceMs ?? MISFIRE_GRACE_MS));
  const onTime: Date[] = [];
  const missed: Date[] = [];
  if (from > now) return { onTime, missed };
  // The walk starts at an occurrence and takes each next one from there: `next()` from a moment
  // just before an occurrence moved by a spring-forward would not find it (the gap has passed).
  const start = walkStart(spec, from, graceStart, missedLimit);
  const walk = walker(spec, start, 'next');
  for (let at: Date | null = start; at !== null && at <= now; at = walk()) {
    if (at >= graceStart) {
      onTime.push(at);
    } else {
      missed.push(at);
      if (missed.length > missedLimit) missed.shift();
    }
  }
  return { onTime, missed };
}

/**
 * Where the forward walk may start: `from`, or later when more than `missedLimit` occurrences lie
 * between `from` and the grace. Found walking backwards (`prev()`), which skips a time that a
 * spring-forward removes where `next()` moves it an hour on: it finds no more occurrences than the
 * forward walk, so the start it gives is never too late.
 */
function walkStart(spec: CronSpec, from: Date, graceStart: Date, missedLimit: number): Date {
  const back = walker(spec, graceStart, 'prev');
  let earliest: Date | null = null;
  for (let step = 0; step < missedLimit; step += 1) {
    const at = back();
    if (at === null || at < from) return from;
    earliest = at;
  }
  return earliest !== null && earliest > from ? earliest : from;
}

function walker(spec: CronSpec, currentDate: Date, direction: 'next' | 'prev'): () => Date | null {
  let interval: CronExpression | null;
  try {
    interval = CronExpressionParser.parse(spec.expression, { currentDate, tz: spec.timezone });
  } catch {
    interval = null;
  }
  return () => {
    try {
      return interval ? interval[direction]().toDate() : null;
    } catch {
      return null;
    }
  };
}
