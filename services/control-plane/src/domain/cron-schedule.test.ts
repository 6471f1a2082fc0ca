import { describe, expect, it } from 'vitest';
import { isTimeZone, nextOccurrence, validateCronSchedule, type CronSpec } from './cron-schedule.js';

/** `count` occurrences, each strictly after the one before, starting after `after`. */
function occurrences(spec: CronSpec, after: string, count: number): string[] {
  const found: string[] = [];
  let from = new Date(after);
  for (let index = 0; index < count; index += 1) {
    const next = nextOccurrence(spec, from);
    if (!next) break;
    found.push(next.toISOString());
    from = next;
  }
  return found;
}

const NY = 'America/New_York';
const LONDON = 'Europe/London';

/*
 * 2026 changes: New York springs forward on 8 March at 02:00 EST (07:00Z) to 03:00 EDT and falls
 * back on 1 November at 02:00 EDT (06:00Z) to 01:00 EST; London springs forward on 29 March at
 * 01:00 GMT (01:00Z) to 02:00 BST and falls back on 25 October at 02:00 BST (01:00Z) to 01:00 GMT.
 */
describe('nextOccurrence across DST changes', () => {
  it.each([
    // New York, spring forward: 02:30 does not exist on 8 March; that day's run is at 03:30 EDT.
    [
      'daily 02:30, NY spring forward',
      '30 2 * * *',
      NY,
      '2026-03-06T12:00:00Z',
      ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ],
    // New York, fall back: 01:30 happens twice on 1 November; the run is at the first (EDT) only.
    [
      'daily 01:30, NY fall back',
      '30 1 * * *',
      NY,
      '2026-10-31T00:00:00Z',
      ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ],
    [
      'daily 01:30, NY fall back, after the first 01:30',
      '30 1 * * *',
      NY,
      '2026-11-01T05:30:00Z',
      ['2026-11-02T06:30:00.000Z'],
    ],
    // Every hour: one run per real hour, none for the hour that does not exist, two 01:00s in the autumn.
    [
      'hourly, NY spring forward',
      '0 * * * *',
      NY,
      '2026-03-08T05:30:00Z',
      ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z'],
    ],
    [
      'hourly, NY fall back',
      '0 * * * *',
      NY,
      '2026-11-01T04:30:00Z',
      ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ],
    // Every 15 minutes: 01:45 EST is followed by 03:00 EDT; in the autumn 01:45 EDT by 01:00 EST.
    [
      'every 15 min, NY spring forward',
      '*/15 * * * *',
      NY,
      '2026-03-08T06:40:00Z',
      ['2026-03-08T06:45:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:15:00.000Z'],
    ],
    [
      'every 15 min, NY fall back',
      '*/15 * * * *',
      NY,
      '2026-11-01T05:40:00Z',
      ['2026-11-01T05:45:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T06:15:00.000Z'],
    ],
    [
      'every 15 min, NY, inside the repeated hour',
      '*/15 * * * *',
      NY,
      '2026-11-01T06:10:00Z',
      [
        '2026-11-01T06:15:00.000Z',
        '2026-11-01T06:30:00.000Z',
        '2026-11-01T06:45:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ],
    ],
    // London: 01:30 does not exist on 29 March (runs at 02:30 BST); happens twice on 25 October (runs once).
    [
      'daily 01:30, London spring forward',
      '30 1 * * *',
      LONDON,
      '2026-03-28T12:00:00Z',
      ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ],
    [
      'daily 01:30, London fall back',
      '30 1 * * *',
      LONDON,
      '2026-10-24T12:00:00Z',
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ],
    [
      'hourly, London spring forward',
      '0 * * * *',
      LONDON,
      '2026-03-29T00:30:00Z',
      ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ],
    [
      'hourly, London fall back',
      '0 * * * *',
      LONDON,
      '2026-10-24T23:30:00Z',
      ['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    ],
    [
      'every 15 min, London spring forward',
      '*/15 * * * *',
      LONDON,
      '2026-03-29T00:40:00Z',
      ['2026-03-29T00:45:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:15:00.000Z'],
    ],
    [
      'every 15 min, London fall back',
      '*/15 * * * *',
      LONDON,
      '2026-10-25T00:40:00Z',
      ['2026-10-25T00:45:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:15:00.000Z'],
    ],
  ])('%s: %s in %s after %s', (_name, expression, timezone, after, expected) => {
    expect(occurrences({ expression, timezone }, after, expected.length)).toEqual(expected);
  });
});

describe('nextOccurrence', () => {
  it.each([
    [
      'seconds, strictly after a non-matching instant',
      '*/2 * * * * *',
      'UTC',
      '2026-01-01T00:00:00.500Z',
      ['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z'],
    ],
    [
      'seconds, strictly after an occurrence',
      '*/2 * * * * *',
      'UTC',
      '2026-01-01T00:00:02.000Z',
      ['2026-01-01T00:00:04.000Z'],
    ],
    [
      'every second, within a second',
      '* * * * * *',
      'UTC',
      '2026-01-01T00:00:01.500Z',
      ['2026-01-01T00:00:02.000Z'],
    ],
    [
      'weekdays at 09:00 London, from a Friday afternoon',
      '0 9 * * MON-FRI',
      LONDON,
      '2026-06-05T12:00:00Z',
      ['2026-06-08T08:00:00.000Z'],
    ],
    [
      '29 February, from March 2026',
      '0 0 29 2 *',
      'UTC',
      '2026-03-01T00:00:00Z',
      ['2028-02-29T00:00:00.000Z'],
    ],
  ])('%s: %s in %s after %s', (_name, expression, timezone, after, expected) => {
    expect(occurrences({ expression, timezone }, after, expected.length)).toEqual(expected);
  });

  it('is null for a stored expression that no longer parses', () => {
    expect(nextOccurrence({ expression: 'nonsense', timezone: 'UTC' }, new Date())).toBeNull();
  });
});

describe('validateCronSchedule', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');

  it.each([
    ['*/5 * * * *', 'UTC', '*/5 * * * *', '2026-06-01T12:05:00.000Z'],
    ['*/2 * * * * *', 'UTC', '*/2 * * * * *', '2026-06-01T12:00:02.000Z'],
    ['  0   9 * * 1-5 ', ' Europe/London ', '0 9 * * 1-5', '2026-06-02T08:00:00.000Z'],
    ['0 9 * * MON-FRI', 'America/New_York', '0 9 * * MON-FRI', '2026-06-01T13:00:00.000Z'],
  ])('accepts %j in %j: stored as %j, next at %s', (expression, timezone, stored, next) => {
    const result = validateCronSchedule({ expression, timezone }, now);
    expect(result).toEqual({
      ok: true,
      schedule: { strategy: 'cron', expression: stored, timezone: timezone.trim() },
      next: new Date(next),
    });
  });

  it.each([
    ['* * * * *', 'Mars/Olympus', 'timezone', 'is not an IANA time zone'],
    ['* * * * *', '+01:00', 'timezone', 'is not an IANA time zone'],
    ['* * * * *', '', 'timezone', 'is not an IANA time zone'],
    ['* * * *', 'UTC', 'expression', 'must have 5 fields'],
    ['* * * * * * *', 'UTC', 'expression', 'must have 5 fields'],
    ['@daily', 'UTC', 'expression', 'must have 5 fields'],
    ['61 * * * *', 'UTC', 'expression', 'is not a valid cron expression'],
    ['0 0 30 2 *', 'UTC', 'expression', 'is not a valid cron expression'],
    ['a b c d e', 'UTC', 'expression', 'is not a valid cron expression'],
    ['H * * * *', 'UTC', 'expression', 'H (hashed values) is not supported'],
  ])('refuses %j in %j, naming %s', (expression, timezone, field, message) => {
    const result = validateCronSchedule({ expression, timezone }, now);
    expect(result).toMatchObject({ ok: false, field });
    if (!result.ok) expect(result.message).toContain(message);
  });
});

describe('isTimeZone', () => {
  it.each([
    ['UTC', true],
    ['America/New_York', true],
    ['Europe/London', true],
    ['US/Eastern', true],
    ['Etc/GMT+5', true],
    ['Mars/Olympus', false],
    ['+01:00', false],
    ['', false],
  ])('%j → %s', (name, known) => {
    expect(isTimeZone(name)).toBe(known);
  });
});
