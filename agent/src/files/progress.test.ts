import { describe, expect, it } from 'vitest';
import { describeBytes, spanPercent, throttledProgress } from './progress.js';

const MIB = 1024 * 1024;

describe('describeBytes', () => {
  it.each<[number, number | undefined, string | undefined, string]>([
    [0, 10 * MIB, undefined, '0.0 MiB of 10.0 MiB'],
    [1.25 * MIB, 40 * MIB, 'downloading', 'downloading: 1.3 MiB of 40.0 MiB'],
    [3 * MIB, undefined, 'archiving', 'archiving: 3.0 MiB'],
  ])('%i of %s (%s) → %j', (done, total, phase, expected) => {
    expect(describeBytes(done, total, phase)).toBe(expected);
  });
});

describe('spanPercent', () => {
  it.each<[number, number | undefined, number, number, number]>([
    [0, 100, 0, 100, 0],
    [50, 100, 0, 100, 50],
    [50, 100, 50, 100, 75],
    [100, 100, 0, 50, 50],
    [150, 100, 0, 100, 100],
    [10, undefined, 20, 60, 20],
    [10, 0, 20, 60, 20],
  ])('%i of %s in [%i, %i] → %i', (done, total, from, to, expected) => {
    expect(spanPercent(done, total, from, to)).toBe(expected);
  });
});

describe('throttledProgress', () => {
  it('reports the first update at once, then at most once per interval', () => {
    let now = 1000;
    const reports: Array<[number, string | undefined]> = [];
    const progress = throttledProgress(
      { reportProgress: (percent, message) => reports.push([percent, message]) },
      { label: 'downloading', from: 0, to: 100 },
      { intervalMs: 500, now: () => now },
    );
    progress.update(10, 100);
    now += 100;
    progress.update(20, 100);
    now += 400;
    progress.update(30, 100);
    expect(reports.map(([percent]) => percent)).toEqual([10, 30]);
    expect(reports[0]?.[1]).toBe('downloading: 0.0 MiB of 0.0 MiB');
  });
});
