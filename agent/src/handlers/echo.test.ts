import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createExecutionOutput } from '../output-buffer.js';
import { echoHandler, type EchoPayload } from './echo.js';
import type { HandlerContext } from './handler.js';

function context(payload: EchoPayload, signal = new AbortController().signal) {
  const output = createExecutionOutput(1024);
  const events: string[] = [];
  const ctx: HandlerContext<EchoPayload> = {
    payload,
    execution: {
      taskId: 't',
      executionId: 'e',
      attempt: 1,
      type: 'Echo',
      target: { type: 'node', id: 'n' },
      deadline: new Date(Date.now() + 60_000),
    },
    output,
    started: () => events.push('started'),
    reportProgress: () => events.push('progress'),
    signal,
    logger: pino({ level: 'silent' }),
  };
  return { ctx, output, events };
}

describe('Echo', () => {
  it('returns its payload as the result and writes nothing', async () => {
    const { ctx, output, events } = context({ hello: 'world', n: 1 });
    await expect(echoHandler.run(ctx)).resolves.toEqual({
      status: 'completed',
      exitCode: 0,
      result: { hello: 'world', n: 1 },
    });
    expect(events).toEqual(['started']);
    expect(output.stdout.totalBytes + output.stderr.totalBytes).toBe(0);
  });

  it('waits delayMs', async () => {
    const { ctx } = context({ delayMs: 30 });
    const startedAt = performance.now();
    await echoHandler.run(ctx);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(25);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const { ctx } = context({ delayMs: 60_000 }, controller.signal);
    const running = echoHandler.run(ctx);
    controller.abort({ kind: 'cancelled', reason: 'test', gracePeriodMs: 0 });
    await expect(running).resolves.toMatchObject({ status: 'failed' });
  });
});
