import { describe, expect, it } from 'vitest';
import type { MisfirePolicy, OverlapPolicy } from '@meridian/contracts/api/recurring';
import { decideMisfire, decideOverlap, type OverlapDecision } from './recurring-decisions.js';

const t = (hour: number) => new Date(Date.UTC(2026, 5, 1, hour));

describe('decideMisfire', () => {
  const missed = [t(9), t(10), t(11)];
  it.each<[string, MisfirePolicy, Date[], Date[], Date[], Date[]]>([
    ['on time only, skip', 'skip', [t(12)], [], [t(12)], []],
    ['on time only, fire-once', 'fire-once', [t(12)], [], [t(12)], []],
    ['on time only, fire-all', 'fire-all', [t(12)], [], [t(12)], []],
    ['missed only, skip', 'skip', [], missed, [], missed],
    ['missed only, fire-once fires the latest', 'fire-once', [], missed, [t(11)], [t(9), t(10)]],
    ['missed only, fire-all fires each in order', 'fire-all', [], missed, missed, []],
    ['missed and on time, skip', 'skip', [t(12)], missed, [t(12)], missed],
    [
      'missed and on time, fire-once: the on-time one is the one',
      'fire-once',
      [t(12)],
      missed,
      [t(12)],
      missed,
    ],
    ['missed and on time, fire-all', 'fire-all', [t(12)], missed, [...missed, t(12)], []],
    ['nothing due', 'fire-once', [], [], [], []],
  ])('%s', (_name, policy, onTime, missedNow, fire, skip) => {
    expect(decideMisfire({ onTime, missed: missedNow }, policy)).toEqual({
      fire,
      skip,
    });
  });
});

describe('decideOverlap', () => {
  it.each<[OverlapPolicy, boolean, OverlapDecision]>([
    ['skip', false, 'fire'],
    ['allow', false, 'fire'],
    ['queue', false, 'fire'],
    ['skip', true, 'skip'],
    ['allow', true, 'fire'],
    ['queue', true, 'wait'],
  ])('%s with the previous task unfinished: %s → %s', (policy, unfinished, decision) => {
    expect(decideOverlap(policy, unfinished)).toBe(decision);
  });
});
