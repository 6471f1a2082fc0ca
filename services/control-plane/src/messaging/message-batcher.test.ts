import { describe, expect, it } from 'vitest';
import { MessageBatcher, oneByOneOnFailure } from './message-batcher.js';

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

describe('oneByOneOnFailure', () => {
  it('processes a failed batch again one item at a time, so one bad item holds back nobody', async () => {
    const calls: number[][] = [];
    const splits: number[] = [];
    const process = oneByOneOnFailure(
      (items: number[]) => {
        calls.push(items);
        return items.includes(3) && items.length > 1
          ? Promise.reject(new Error('bad batch'))
          : Promise.resolve(items.map((n) => n * 10));
      },
      (_error, size) => splits.push(size),
    );
    expect(await process([1, 3, 5])).toEqual([10, 30, 50]);
    expect(calls).toEqual([[1, 3, 5], [1], [3], [5]]);
    expect(splits).toEqual([3]);
  });

  it('rejects when a lone item fails', async () => {
    const process = oneByOneOnFailure(
      () => Promise.reject(new Error('no')),
      () => undefined,
    );
    await expect(process([1])).rejects.toThrow('no');
  });
});
