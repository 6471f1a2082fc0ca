import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkLoop } from './work-loop.js';

const logger = pino({ level: 'silent' });

function deferred() {
  let resolve!: (handled: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('WorkLoop', () => {
  it('coalesces wakes that arrive during a pass into one more pass', async () => {
    const passes: ReturnType<typeof deferred>[] = [];
    const loop = new WorkLoop({
      name: 't',
      batchSize: 10,
      intervalMs: 60_000,
      logger,
      pass: () => {
        const d = deferred();
        passes.push(d);
        return d.promise;
      },
    });
    loop.start();
    loop.wake();
    loop.wake();
    expect(passes).toHaveLength(1);
    passes[0]!.resolve(1);
    await settle();
    expect(passes).toHaveLength(2);
    passes[1]!.resolve(0);
    await settle();
    expect(passes).toHaveLength(2);
    await loop.stop(false);
  });

  it('runs up to `concurrency` passes at once', async () => {
    const passes: ReturnType<typeof deferred>[] = [];
    const loop = new WorkLoop({
      name: 't',
      batchSize: 10,
      intervalMs: 60_000,
      concurrency: 2,
      logger,
      pass: () => {
        const d = deferred();
        passes.push(d);
        return d.promise;
      },
    });
    loop.start();
    loop.wake();
    expect(passes).toHaveLength(2);
    loop.wake(); // both slots busy: served by one more pass once a slot frees
    expect(passes).toHaveLength(2);
    passes[0]!.resolve(0);
    await settle();
    expect(passes).toHaveLength(3);
    passes[1]!.resolve(0);
    passes[2]!.resolve(0);
    await settle();
    expect(passes).toHaveLength(3);
    await loop.stop(false);
  });

  it('runs again at once after a full batch, and flushes once more on stop', async () => {
    let calls = 0;
    const loop = new WorkLoop({
      name: 't',
      batchSize: 2,
      intervalMs: 60_000,
      logger,
      pass: () => {
        calls += 1;
        return Promise.resolve(calls < 3 ? 2 : 0);
      },
    });
    loop.start();
    await settle();
    expect(calls).toBe(3);
    await loop.stop(true);
    expect(calls).toBe(4);
  });
});
