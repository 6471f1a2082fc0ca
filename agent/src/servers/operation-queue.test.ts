import { describe, expect, it } from 'vitest';
import { OperationQueue } from './operation-queue.js';

const never = new AbortController().signal;

describe('OperationQueue', () => {
  it('runs the work of one key one after the other, in order', async () => {
    const queue = new OperationQueue();
    const order: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = queue.run('a', never, async () => {
      order.push('first:start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first:end');
    });
    const second = queue.run('a', never, () => Promise.resolve(order.push('second')));
    const other = queue.run('b', never, () => Promise.resolve(order.push('other key')));
    await other;
    expect(order).toEqual(['first:start', 'other key']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first:start', 'other key', 'first:end', 'second']);
  });

  it('goes on after a failed work', async () => {
    const queue = new OperationQueue();
    await expect(queue.run('a', never, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(queue.run('a', never, () => Promise.resolve(2))).resolves.toBe(2);
  });

  it('an abort while waiting leaves the queue without running the work', async () => {
    const queue = new OperationQueue();
    let releaseFirst: () => void = () => undefined;
    const first = queue.run('a', never, () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    const controller = new AbortController();
    let ran = false;
    const waiting = queue.run('a', controller.signal, () => Promise.resolve((ran = true)));
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    releaseFirst();
    await first;
    expect(ran).toBe(false);
    await expect(queue.run('a', never, () => Promise.resolve('next'))).resolves.toBe('next');
  });
});
