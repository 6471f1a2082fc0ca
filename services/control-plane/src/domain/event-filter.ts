import type { EventQuery } from '@meridian/contracts/api/task-event';

/** The upper end of a time range: a date-time is inclusive, the day after a bare date is not. */
export interface TimeBound {
  /** An ISO 8601 instant PostgreSQL reads as timestamptz (offsets and microseconds kept). */
  at: string;
  inclusive: boolean;
}

/** What an event query keeps, ready for SQL: null where the caller did not filter. */
export interface EventFilter {
  types: readonly string[] | null;
  /** Inclusive lower end. */
  from: string | null;
  to: TimeBound | null;
  actor: string | null;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** 00:00 UTC of the day after `date` (`YYYY-MM-DD`); the year may grow a fifth digit. */
function startOfNextDay(date: string): string {
  const [, year, month, day] = DATE_ONLY.exec(date)!;
  const next = new Date(0);
  next.setUTCFullYear(Number(year), Number(month) - 1, Number(day) + 1);
  return `${pad(next.getUTCFullYear(), 4)}-${pad(next.getUTCMonth() + 1)}-${pad(next.getUTCDate())}T00:00:00Z`;
}

function lowerBound(from: string): string {
  return DATE_ONLY.test(from) ? `${from}T00:00:00Z` : from;
}

function upperBound(to: string): TimeBound {
  return DATE_ONLY.test(to) ? { at: startOfNextDay(to), inclusive: false } : { at: to, inclusive: true };
}

/** The filter of a validated query; a bare `to` date takes in that whole UTC day. */
export function eventFilterOf(query: Pick<EventQuery, 'types' | 'from' | 'to' | 'actor'>): EventFilter {
  return {
    types: query.types && query.types.length > 0 ? query.types : null,
    from: query.from === undefined ? null : lowerBound(query.from),
    to: query.to === undefined ? null : upperBound(query.to),
    actor: query.actor ?? null,
  };
}

const DAY_MS = 86_400_000;

/**
 * Why `from`..`to` holds no instant (`from` after `to`), or null when it is a range. Compared to
 * the millisecond: a range narrower than that is let through and finds nothing.
 */
export function emptyRangeReason(query: Pick<EventQuery, 'from' | 'to'>): string | null {
  if (query.from === undefined || query.to === undefined) return null;
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  const empty = DATE_ONLY.test(query.to) ? from >= to + DAY_MS : from > to;
  return empty ? 'must not be after `to`' : null;
}

/**
 * The filter in one canonical string (type names sorted), for binding a cursor to its query:
 * `types=B,A` and `types=A,B` are the same filter; `to=2025-01-31` and `to=2025-02-01T00:00:00Z`
 * are not (one excludes its end, the other includes it).
 */
export function eventFilterKey(filter: EventFilter): string {
  return JSON.stringify([
    filter.types ? [...filter.types].sort() : null,
    filter.from,
    filter.to ? [filter.to.at, filter.to.inclusive] : null,
    filter.actor,
  ]);
}
