import { describe, expect, it } from 'vitest';
import { handlerContext } from '../testing/handler-context.js';
import { echoHandler } from './echo.js';

describe('Echo', () => {
  it('returns its payload as the result and writes nothing', async () => {
    const { ctx, output, events } = handlerContext({ hello: 'world', n: 1 });
    await expect(echoHandler.run(ctx)).resolves.toEqual({
      status: 'completed',
      exitCode: 0,
      result: { hello: 'world', n: 1 },
    });
    expect(events).toEqual([{ kind: 'started', pid: undefined }]);
    expect(output.stdout.totalBytes + output.stderr.totalBytes).toBe(0);
  });

  it('waits delayMs', async () => {
    const { ctx } = handlerContext({ delayMs: 30 });
    const startedAt = performance.now();
    await echoHandler.run(ctx);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(25);
  });

  it('stops waiting when aborted', async () => {
    const { ctx, controller } = handlerContext({ delayMs: 60_000 });
    const running = echoHandler.run(ctx);
    controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 0 });
    await expect(running).resolves.toMatchObject({ status: 'failed' });
  });
});
