import { pino } from 'pino';
import type { HandlerContext } from '../handlers/handler.js';
import { createExecutionOutput, type ExecutionOutput } from '../output-buffer.js';
import { temporaryDataDir } from './data-dir.js';

export interface TestContext<TPayload> {
  ctx: HandlerContext<TPayload>;
  output: ExecutionOutput;
  controller: AbortController;
  /** `started` then `progress` calls, in order. */
  events: Array<{ kind: 'started'; pid?: number } | { kind: 'progress'; percent: number }>;
}

/** A handler context as the runner would build it, for calling a handler directly. */
export function handlerContext<TPayload>(payload: TPayload, outputMaxBytes = 65_536): TestContext<TPayload> {
  const output = createExecutionOutput(outputMaxBytes);
  const controller = new AbortController();
  const events: TestContext<TPayload>['events'] = [];
  const ctx: HandlerContext<TPayload> = {
    payload,
    execution: {
      taskId: '00000000-0000-4000-8000-000000000001',
      executionId: '00000000-0000-4000-8000-000000000002',
      attempt: 1,
      type: 'Test',
      target: { type: 'node', id: 'node-test' },
      deadline: new Date(Date.now() + 60_000),
    },
    output,
    dataDir: temporaryDataDir(),
    started: (details) => events.push({ kind: 'started', pid: details?.pid }),
    reportProgress: (percent) => events.push({ kind: 'progress', percent }),
    signal: controller.signal,
    logger: pino({ level: 'silent' }),
  };
  return { ctx, output, controller, events };
}
