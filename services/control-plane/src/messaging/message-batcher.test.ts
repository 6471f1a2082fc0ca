import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { isolateFailures, MessageBatcher } from './message-batcher.js';
import { RetryStoppedError, TransientRetry, transientRetryDelayMs } from './transient-retry.js';

describe('MessageBatcher', () => {
  it('puts what arrives in one turn of the event loop into one batch', async () => {
    const batches: number[][] = [];
    const batcher = new MessageBatcher<number, string>(100, (items) => {
      batches.push(items);
      return Promise.resolve(items.map(String));
    });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(results).toEqual(['1', '2', '3']);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('closes a batch when full, and holds what arrives while maxInFlight batches run', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new MessageBatcher<number, number>(
      2,
      async (items) => {
        batches.push(items);
        await gate;
        return items;
      },
      1,
    );
    const all = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2]]);
    release();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every item of a batch that fails, and drain waits for all', async () => {
    const batcher = new MessageBatcher<number, number>(10, () => Promise.reject(new Error('db down')));
    const results = [1, 2].map((n) => batcher.add(n).catch((error: Error) => error.message));
    await batcher.drain();
    expect(await Promise.all(results)).toEqual(['db down', 'db down']);
  });
});

const silent = pino({ level: 'silent' });

class Transient extends Error {}

function isolated(
  processBatch: (items: string[]) => Promise<string[]>,
  retry = new TransientRetry({ isTransient: (e) => e instanceof Transient, logger: silent, minDelayMs: 1 }),
) {
  const splits: number[] = [];
  const process = isolateFailures(processBatch, {
    keyOf: (item) => item,
    asDuplicate: (result) => `${result} (copy)`,
    retry,
    onSplit: (_error, size) => splits.push(size),
  });
  return { process, splits, retry };
}

describe('isolateFailures', () => {
  it('processes a failed batch again one item at a time: only the item that fails on its own fails', async () => {
    const calls: string[][] = [];
    const { process, splits } = isolated((items) => {
      calls.push(items);
      return items.includes('bad') ? Promise.reject(new Error('22P05 in bad')) : Promise.resolve(items);
    });
    const settled = await process(['a', 'bad', 'c']);
    expect(settled).toEqual([
      { ok: true, value: 'a' },
      { ok: false, error: new Error('22P05 in bad') },
      { ok: true, value: 'c' },
    ]);
    expect(calls).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
    expect(splits).toEqual([3]);
  });

  it('processes copies of one key once; the copies share the result', async () => {
    const calls: string[][] = [];
    const { process } = isolated((items) => {
      calls.push(items);
      return Promise.resolve(items.map((item) => item.toUpperCase()));
    });
    expect(await process(['a', 'b', 'a'])).toEqual([
      { ok: true, value: 'A' },
      { ok: true, value: 'B' },
      { ok: true, value: 'A (copy)' },
    ]);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('retries a transient failure until it passes, and never turns it into a result', async () => {
    let failuresLeft = 3;
    const calls: string[][] = [];
    const { process } = isolated((items) => {
      calls.push(items);
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return Promise.reject(new Transient('database away'));
      }
      return Promise.resolve(items);
    });
    expect(await process(['a', 'b'])).toEqual([
      { ok: true, value: 'a' },
      { ok: true, value: 'b' },
    ]);
    expect(calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('retries a transient failure of one item while applying the others one by one', async () => {
    let transientLeft = 2;
    const { process } = isolated((items) => {
      if (items.length > 1) return Promise.reject(new Error('one of them is bad'));
      if (items[0] === 'b' && transientLeft > 0) {
        transientLeft -= 1;
        return Promise.reject(new Transient('deadlock'));
      }
      return items[0] === 'bad' ? Promise.reject(new Error('bad')) : Promise.resolve(items);
    });
    const settled = await process(['a', 'b', 'bad']);
    expect(settled.map((s) => s.ok)).toEqual([true, true, false]);
    expect(transientLeft).toBe(0);
  });

  it('gives up with RetryStoppedError when stopped while the database is away', async () => {
    const retry = new TransientRetry({ isTransient: () => true, logger: silent, minDelayMs: 10_000 });
    let calls = 0;
    const { process } = isolated(() => {
      calls += 1;
      return Promise.reject(new Transient('away'));
    }, retry);
    const pending = process(['a']);
    await vi.waitFor(() => expect(retry.waiting).toBe(1));
    retry.stop();
    await expect(pending).rejects.toBeInstanceOf(RetryStoppedError);
    expect(calls).toBe(1);
    expect(retry.waiting).toBe(0);
  });
});

describe('transientRetryDelayMs', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [6, 3200],
    [7, 5000],
    [50, 5000],
    [1_000_000, 5000],
    [0, 100],
  ])('after %i failures waits %i ms', (attempt, delay) => {
    expect(transientRetryDelayMs(attempt)).toBe(delay);
  });
});
