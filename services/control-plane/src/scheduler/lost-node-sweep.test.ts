import { describe, expect, it } from 'vitest';
import { HearingWindow, isCaughtUp, lostNodeSweepIntervalMs } from './lost-node-sweep.js';

describe('lostNodeSweepIntervalMs', () => {
  it.each([
    [30, 5000],
    [12, 4000],
    [5, 1666],
    [1, 333],
    [3600, 5000],
  ])('NODE_LOST_AFTER_SECONDS=%i → a pass every %i ms', (seconds, intervalMs) => {
    expect(lostNodeSweepIntervalMs(seconds)).toBe(intervalMs);
  });
});

describe('HearingWindow', () => {
  it('declares nothing lost until the replica has listened for the whole window since its start', () => {
    const window = new HearingWindow(30_000, 0);
    expect(window.check(29_999, true)).toBe(false);
    expect(window.check(30_000, true)).toBe(true);
  });

  it.each([
    // steps: [at, broker connected, pass failed before this check?] → may declare lost
    [
      'a broker outage starts the window again when the broker is back',
      [
        [40_000, false, false, false],
        [50_000, true, false, false],
        [79_999, true, false, false],
        [80_000, true, false, true],
      ],
    ],
    [
      'a failed pass (database away) starts the window again at the next check',
      [
        [40_000, true, true, false],
        [69_999, true, false, false],
        [70_000, true, false, true],
      ],
    ],
  ] as const)('%s', (_name, steps) => {
    const window = new HearingWindow(30_000, 0);
    expect(window.check(30_000, true)).toBe(true);
    for (const [at, connected, failedBefore, expected] of steps) {
      if (failedBefore) window.interrupted();
      expect(window.check(at, connected)).toBe(expected);
    }
  });
});

describe('isCaughtUp', () => {
  it.each([
    [0, 100, true],
    [100, 100, true],
    [101, 100, false],
    [10_000, 100, false],
    [undefined, 100, false],
  ])('%s messages ready with a prefetch of %i → caught up: %s', (ready, prefetch, caughtUp) => {
    expect(isCaughtUp(ready, prefetch)).toBe(caughtUp);
  });
});
