import { describe, expect, it } from 'vitest';
import { ExpiringMap } from './expiring-map.js';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ExpiringMap', () => {
  it('forgets an entry after its time to live', () => {
    const time = clock();
    const map = new ExpiringMap<string>(1000, 10, time.now);
    map.set('a', 'reason');
    time.advance(999);
    expect(map.get('a')).toBe('reason');
    time.advance(1);
    expect(map.has('a')).toBe(false);
  });

  it('drops the oldest entries beyond its size', () => {
    const map = new ExpiringMap<number>(60_000, 2, clock().now);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect([map.has('a'), map.has('b'), map.has('c'), map.size]).toEqual([false, true, true, 2]);
  });

  it('refreshes an entry set again', () => {
    const time = clock();
    const map = new ExpiringMap<number>(1000, 2, time.now);
    map.set('a', 1);
    map.set('b', 2);
    time.advance(500);
    map.set('a', 3);
    map.set('c', 4);
    expect([map.get('a'), map.has('b'), map.get('c')]).toEqual([3, false, 4]);
    time.advance(600);
    expect(map.get('a')).toBe(3);
  });

  it('takes an entry once', () => {
    const map = new ExpiringMap<string>(1000, 10);
    map.set('a', 'x');
    expect(map.take('a')).toBe('x');
    expect(map.take('a')).toBeUndefined();
  });
});
