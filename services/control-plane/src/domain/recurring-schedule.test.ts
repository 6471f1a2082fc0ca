import { describe, expect, it } from 'vitest';
import { dueOccurrences, MISFIRE_GRACE_MS } from './recurring-schedule.js';

const NY = 'America/New_York';
const LONDON = 'Europe/London';
const iso = (dates: Date[]) => dates.map((date) => date.toISOString());

/*
 * The occurrences the recurring loop fires. 2026: New York springs
 * forward on 8 March 02:00 EST (07:00Z) and falls back on 1 November 02:00 EDT (06:00Z); London
 * springs forward on 29 March 01:00 GMT (01:00Z) and falls back on 25 October 02:00 BST (01:00Z).
 */
describe('dueOccurrences across DST changes: the rule of docs/workflows.md', () => {
  it.each([
    // A time in the skipped hour runs one hour later, at the first valid wall time.
    [
      'NY 02:30 on the spring-forward night → 03:30 EDT',
      '30 2 * * *',
      NY,
      '2026-03-07T07:30:00Z',
      '2026-03-09T00:00:00Z',
      ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z'],
    ],
    [
      'London 01:30 on the spring-forward night → 02:30 BST',
      '30 1 * * *',
      LONDON,
      '2026-03-28T01:30:00Z',
      '2026-03-30T00:00:00Z',
      ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z'],
    ],
    // A time in the repeated hour runs once, at its first (summer-time) instance.
    [
      'NY 01:30 on the fall-back night → once, 01:30 EDT',
      '30 1 * * *',
      NY,
      '2026-10-31T05:30:00Z',
      '2026-11-02T00:00:00Z',
      ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z'],
    ],
    [
      'London 01:30 on the fall-back night → once, 01:30 BST',
      '30 1 * * *',
      LONDON,
      '2026-10-24T00:30:00Z',
      '2026-10-26T00:00:00Z',
      ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z'],
    ],
    // Hourly schedules keep real-time spacing: 24 runs on a normal day, 23 and 25 on change days.
    [
      'NY hourly on the spring-forward day: 23 runs',
      '0 * * * *',
      NY,
      '2026-03-08T05:00:00Z',
      '2026-03-09T03:59:00Z',
      23,
    ],
    [
      'NY hourly on the fall-back day: 25 runs',
      '0 * * * *',
      NY,
      '2026-11-01T04:00:00Z',
      '2026-11-02T04:59:00Z',
      25,
    ],
  ])('%s', (_name, expression, timezone, from, now, expected) => {
    const due = dueOccurrences(
      { expression, timezone },
      { from: new Date(from), now: new Date(now), missedLimit: 1000 },
    );
    expect(due.onTime).toEqual([]);
    if (typeof expected === 'number') expect(due.missed).toHaveLength(expected);
    else expect(iso(due.missed)).toEqual(expected);
  });
});

describe('dueOccurrences', () => {
  it('finds an occurrence a spring-forward moved, once its time has come', () => {
    const due = dueOccurrences(
      { expression: '30 2 * * *', timezone: NY },
      { from: new Date('2026-03-08T07:30:00Z'), now: new Date('2026-03-08T07:30:10Z'), missedLimit: 100 },
    );
    expect(iso(due.onTime)).toEqual(['2026-03-08T07:30:00.000Z']);
  });

  const hourly = { expression: '0 * * * *', timezone: 'UTC' };
  const at = (value: string) => new Date(value);

  it.each([
    ['nothing due before from', '2026-06-01T13:00:00Z', '2026-06-01T12:30:00Z', [], []],
    [
      'one on time, a moment late',
      '2026-06-01T12:00:00Z',
      '2026-06-01T12:00:02Z',
      ['2026-06-01T12:00:00.000Z'],
      [],
    ],
    [
      'exactly at the occurrence',
      '2026-06-01T12:00:00Z',
      '2026-06-01T12:00:00Z',
      ['2026-06-01T12:00:00.000Z'],
      [],
    ],
    [
      'just past the grace is missed',
      '2026-06-01T12:00:00Z',
      new Date(Date.parse('2026-06-01T12:00:00Z') + MISFIRE_GRACE_MS + 1).toISOString(),
      [],
      ['2026-06-01T12:00:00.000Z'],
    ],
    [
      'a downtime: missed ones and an on-time one',
      '2026-06-01T09:00:00Z',
      '2026-06-01T12:00:30Z',
      ['2026-06-01T12:00:00.000Z'],
      ['2026-06-01T09:00:00.000Z', '2026-06-01T10:00:00.000Z', '2026-06-01T11:00:00.000Z'],
    ],
    [
      'a long downtime keeps the latest missed ones',
      '2026-05-01T00:00:00Z',
      '2026-06-01T12:30:00Z',
      [],
      ['2026-06-01T10:00:00.000Z', '2026-06-01T11:00:00.000Z', '2026-06-01T12:00:00.000Z'],
    ],
  ])('%s', (_name, from, now, onTime, missed) => {
    const due = dueOccurrences(hourly, { from: at(from), now: at(now), missedLimit: 3 });
    expect({ onTime: iso(due.onTime), missed: iso(due.missed) }).toEqual({ onTime, missed });
  });

  it('a per-second schedule a few seconds late: each second is on time', () => {
    const due = dueOccurrences(
      { expression: '* * * * * *', timezone: 'UTC' },
      { from: at('2026-06-01T12:00:00Z'), now: at('2026-06-01T12:00:02.500Z'), missedLimit: 100 },
    );
    expect(iso(due.onTime)).toEqual([
      '2026-06-01T12:00:00.000Z',
      '2026-06-01T12:00:01.000Z',
      '2026-06-01T12:00:02.000Z',
    ]);
  });
});
