import { setTimeout as sleep } from 'node:timers/promises';
import { EchoPayloadSchema, type EchoPayload } from '@meridian/contracts/task-types/basic-tasks';
import type { HandlerResult, TaskHandler } from './handler.js';

export { EchoPayloadSchema, type EchoPayload };

/** Waits `delayMs` (abortably) and returns its payload as the result. Spawns nothing: it drives benchmarks. */
export const echoHandler: TaskHandler<EchoPayload> = {
  type: 'Echo',
  payloadSchema: EchoPayloadSchema,
  async run(ctx): Promise<HandlerResult> {
    ctx.started();
    if (ctx.payload.delayMs) {
      try {
        await sleep(ctx.payload.delayMs, undefined, { signal: ctx.signal });
      } catch {
        return { status: 'failed', error: 'aborted', exitCode: null, retryable: false };
      }
    }
    return { status: 'completed', exitCode: 0, result: ctx.payload };
  },
};
