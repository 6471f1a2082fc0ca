import { MAX_RESCHEDULE_DELAY_MS } from '@meridian/contracts/api/reschedule';

export type DelayResult = { ok: true; ms: number } | { ok: false; message: string };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };

const SHORT = /^(\d+)([smhd])$/;
const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`;
/** P[nY][nM][nW][nD][T[nH][nM][nS]]; years and months are matched only to be refused by name. */
const ISO = new RegExp(
  `^P(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
  'i',
);

export const DELAY_FORMATS =
  'a whole number with a unit s, m, h or d ("90s", "5m", "2h", "1d") or an ISO-8601 duration ("PT90S", "P1DT2H", "P2W")';

const invalid = (message: string): DelayResult => ({ ok: false, message });

/**
 * A reschedule's delay: `90s`, `5m`, `2h`, `1d`, or an ISO-8601 duration of weeks, days, hours,
 * minutes and seconds (a decimal fraction on the last one only, as ISO-8601 allows). Years and
 * months have no fixed length and are refused. The delay must be more than 0 and at most
 * MAX_RESCHEDULE_DELAY_MS.
 */
export function parseDelay(text: string): DelayResult {
  const ms = toMilliseconds(text.trim());
  if (!ms.ok) return ms;
  if (ms.ms <= 0) return invalid('must be more than 0');
  if (ms.ms > MAX_RESCHEDULE_DELAY_MS) {
    return invalid(`must be at most ${MAX_RESCHEDULE_DELAY_MS / DAY} days`);
  }
  return ms;
}

function toMilliseconds(text: string): DelayResult {
  const short = SHORT.exec(text);
  if (short) return { ok: true, ms: Number(short[1]) * UNIT_MS[short[2]!]! };
  const iso = ISO.exec(text);
  if (!iso || /^PT?$/i.test(text) || /T$/i.test(text)) return invalid(`must be ${DELAY_FORMATS}`);
  const [, years, months, ...rest] = iso;
  if (years !== undefined || months !== undefined) {
    return invalid(
      'years and months have no fixed length: give the delay in weeks, days, hours, minutes or seconds',
    );
  }
  const parts = rest.map((part) => (part === undefined ? undefined : part.replace(',', '.')));
  const present = parts.filter((part) => part !== undefined);
  if (present.slice(0, -1).some((part) => part.includes('.'))) {
    return invalid('only the last part of an ISO-8601 duration may have a fraction');
  }
  const [weeks, days, hours, minutes, seconds] = parts.map((part) => (part === undefined ? 0 : Number(part)));
  const ms = weeks! * WEEK + days! * DAY + hours! * HOUR + minutes! * MINUTE + seconds! * SECOND;
  return { ok: true, ms: Math.round(ms) };
}
