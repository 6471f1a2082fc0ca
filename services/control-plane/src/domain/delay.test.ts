import { describe, expect, it } from 'vitest';
import { MAX_RESCHEDULE_DELAY_MS } from '@meridian/contracts/api/reschedule';
import { parseDelay } from './delay.js';

describe('parseDelay', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['366d', MAX_RESCHEDULE_DELAY_MS],
    [' 5m ', 300_000],
    ['PT90S', 90_000],
    ['PT5M', 300_000],
    ['PT2H', 7_200_000],
    ['P1D', 86_400_000],
    ['P1DT2H', 93_600_000],
    ['P2W', 1_209_600_000],
    ['P1DT1H1M1S', 90_061_000],
    ['PT1.5S', 1500],
    ['PT0,5H', 1_800_000],
    ['PT0.001S', 1],
    ['pt5m', 300_000],
  ])('%j is %i ms', (text, ms) => {
    expect(parseDelay(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['0s', 'must be more than 0'],
    ['PT0S', 'must be more than 0'],
    ['PT0.0001S', 'must be more than 0'],
    ['367d', 'must be at most 366 days'],
    ['P53W', 'must be at most 366 days'],
    ['99999999999999999999999d', 'must be at most 366 days'],
    ['P1Y', 'years and months have no fixed length'],
    ['P1M', 'years and months have no fixed length'],
    ['P1Y2M3D', 'years and months have no fixed length'],
    ['PT1.5H30M', 'only the last part'],
    ['5', 'must be a whole number with a unit'],
    ['5ms', 'must be a whole number with a unit'],
    ['5w', 'must be a whole number with a unit'],
    ['1.5h', 'must be a whole number with a unit'],
    ['-5m', 'must be a whole number with a unit'],
    ['5M', 'must be a whole number with a unit'],
    ['5 m', 'must be a whole number with a unit'],
    ['P', 'must be a whole number with a unit'],
    ['PT', 'must be a whole number with a unit'],
    ['P1DT', 'must be a whole number with a unit'],
    ['-PT5M', 'must be a whole number with a unit'],
    ['PT5M1H', 'must be a whole number with a unit'],
    ['soon', 'must be a whole number with a unit'],
    ['', 'must be a whole number with a unit'],
  ])('refuses %j: %s', (text, message) => {
    const result = parseDelay(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });
});
