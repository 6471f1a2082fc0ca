import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { ExecutionRunner } from '../execution-runner.js';
import { createCommandHandler } from '../handlers/command.js';
import { HandlerRegistry } from '../handlers/handler.js';
import { removeDataDirs, temporaryJournal } from '../testing/data-dir.js';
import { RunningExecutions } from '../running-executions.js';
import { executeTask } from '../testing/commands.js';
import { FakeLogSender } from '../testing/fake-log-sender.js';
import { LogShipper } from './log-shipper.js';

afterAll(removeDataDirs);

const MiB = 1024 * 1024;

it('keeps the memory of a program printing 50 MB bounded while the broker takes nothing', async () => {
  const sender = new FakeLogSender();
  sender.mode = 'hold';
  const bufferBytes = MiB;
  const logs = new LogShipper({
    sender,
    nodeId: 'node-flood',
    flushMs: 20,
    bufferBytes,
    endWaitMs: 500,
    logger: pino({ level: 'silent' }),
  });
  const reports: AgentMessage[] = [];
  const runner = new ExecutionRunner({
    registry: new HandlerRegistry([createCommandHandler({ PATH: process.env.PATH ?? '/usr/bin:/bin' })]),
    running: new RunningExecutions(),
    publish: (message) => {
      reports.push(message);
      return Promise.resolve();
    },
    logs,
    nodeId: 'node-flood',
    orgId: 'org-test',
    ...temporaryJournal(),
    outputMaxBytes: 65_536,
    logger: pino({ level: 'silent' }),
  });

  const heapBefore = process.memoryUsage().heapUsed;
  let maxBuffered = 0;
  let maxHeapGrowth = 0;
  const sampler = setInterval(() => {
    maxBuffered = Math.max(maxBuffered, logs.bufferedBytes);
    maxHeapGrowth = Math.max(maxHeapGrowth, process.memoryUsage().heapUsed - heapBefore);
  }, 2);
  try {
    // 50 MiB: 512 Ki lines of 100 bytes, written as fast as the pipe takes them.
    await runner.run(
      executeTask('node-flood', {
        type: 'Command',
        payload: {
          command: [
            process.execPath,
            '-e',
            `const block = ('y'.repeat(99) + '\\n').repeat(1024);
             for (let i = 0; i < 512; i++) require('node:fs').writeSync(1, block);`,
          ],
        },
      }),
    );
  } finally {
    clearInterval(sampler);
  }

  const end = reports.at(-1);
  expect(end?.type).toBe('TaskCompleted');
  expect(end?.payload).toMatchObject({
    lastLogSeq: 512 * 1024,
    output: { truncatedBytes: 50 * MiB - 65_536 },
  });
  // Nothing confirmed: two chunks wait for the broker, the rest of what is held is the newest lines.
  // The end report went out all the same (after endWaitMs), before the broker confirmed anything.
  expect(sender.heldCount).toBe(2);
  expect(maxBuffered).toBeLessThanOrEqual(bufferBytes + 16 * 1024 + 100);
  expect(maxHeapGrowth).toBeLessThan(40 * MiB);

  sender.release();
  await expect.poll(() => logs.size, { timeout: 5_000 }).toBe(0);
  const lines = sender.lines();
  expect(lines.at(-1)?.seq).toBe(512 * 1024);
  const announced = sender.confirmed.reduce((sum, chunk) => sum + chunk.payload.droppedBytes, 0);
  expect(announced + lines.length * 99).toBe(512 * 1024 * 99);
}, 60_000);
