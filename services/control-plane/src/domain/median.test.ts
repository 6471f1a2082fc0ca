import { describe, expect, it } from 'vitest';
import { median } from './median.js';

describe('median', () => {
  it.each([
    [[], null],
    [[7], 7],
    [[4, 10], 7],
    [[3, 1, 2], 2],
    [[1000, 1, 2, 3], 2.5],
    [[5, 5, 5, 5], 5],
    [[900, 100, 120, 110, 300_000], 120],
    [[0, 0, 1], 0],
    [[-2, 2], 0],
  ])('of %j is %j', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('leaves its input in its order', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});
