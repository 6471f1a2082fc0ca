import { afterEach, describe, expect, it } from 'vitest';
import { LOG_LINE_MAX_BYTES } from '@meridian/contracts/messages/log-chunk';
import { testAmqpUrl, waitFor } from '../../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness, type ObservedLogChunk } from '../testing/agent-harness.js';
import { executeTask } from '../testing/commands.js';

let harness: AgentHarness | undefined;
/**
 * A flush window longer than any test: chunks close when full or at the end, never on the timer,
 * so how many there are does not depend on how fast the machine runs the printer (the timer itself
 * is tested on a fake clock in execution-log.test.ts).
 */
const SIZE_ONLY_CHUNKS = { LOG_FLUSH_MS: '10000' };

afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

/** Runs a Node.js script as a Command and waits for its end report. */
async function runScript(h: AgentHarness, script: string, timeoutMs = 10_000) {
  const command = executeTask(h.nodeId, {
    type: 'Command',
    payload: { command: [process.execPath, '-e', script] },
  });
  await h.send(command);
  const { executionId } = command.payload;
  const end = await h.waitForReport(executionId, 'TaskCompleted', timeoutMs);
  const terminal = h.observed.find(
    (o) => o.message.type === 'TaskCompleted' && o.message.payload.executionId === executionId,
  );
  return { command, end, terminalArrival: terminal?.arrival ?? -1, chunks: h.logChunksOf(executionId) };
}

const linesOf = (chunks: ObservedLogChunk[]) => chunks.flatMap((chunk) => chunk.message.payload.lines);

describe('live logs against a real broker', () => {
  it('ships 1,000 numbered lines of stdout and stderr with seq 1..1000, then the end report', async () => {
    const h = (harness = await startAgentHarness(testAmqpUrl(), SIZE_ONLY_CHUNKS));
    const { command, end, terminalArrival, chunks } = await runScript(
      h,
      `const fs = require('node:fs');
       for (let n = 1; n <= 1000; n++) fs.writeSync(n % 10 === 0 ? 2 : 1, 'line ' + n + '\\n');`,
    );

    const lines = linesOf(chunks);
    // In order of arrival, every number once, no hole.
    expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const expected = (stream: 'stdout' | 'stderr') =>
      Array.from({ length: 1000 }, (_, i) => i + 1)
        .filter((n) => (n % 10 === 0) === (stream === 'stderr'))
        .map((n) => `line ${n}`);
    // Two pipes: the order between them is the order the agent read them; within each it is kept.
    for (const stream of ['stdout', 'stderr'] as const) {
      expect(lines.filter((line) => line.stream === stream).map((line) => line.text)).toEqual(
        expected(stream),
      );
    }
    expect(end).toMatchObject({ lastLogSeq: 1000, output: { truncatedBytes: 0 } });
    expect(chunks.every((chunk) => chunk.arrival < terminalArrival)).toBe(true);
    expect(chunks.every((chunk) => chunk.message.payload.droppedBytes === 0)).toBe(true);
    // Batched: a fast printer's 1,000 lines take a handful of chunks, not 1,000 messages.
    expect(chunks.length).toBeLessThanOrEqual(20);

    const [first] = chunks;
    expect(first).toMatchObject({
      routingKey: `node.${h.nodeId}`,
      message: {
        type: 'LogChunk',
        schemaVersion: 1,
        correlationId: command.correlationId,
        nodeId: h.nodeId,
        payload: { taskId: command.payload.taskId, executionId: command.payload.executionId },
      },
      properties: {
        type: 'LogChunk',
        messageId: first?.message.messageId,
        correlationId: command.correlationId,
        contentType: 'application/json',
        deliveryMode: 2,
      },
    });
  });

  it('splits lines longer than 16 KiB between characters', async () => {
    const h = (harness = await startAgentHarness(testAmqpUrl()));
    const { end, chunks } = await runScript(
      h,
      `process.stdout.write('a'.repeat(40000) + '\\n' + '€'.repeat(10000) + '\\r\\nlast');`,
    );
    const lines = linesOf(chunks);
    expect(lines.map((line) => Buffer.byteLength(line.text))).toEqual([
      LOG_LINE_MAX_BYTES,
      LOG_LINE_MAX_BYTES,
      40000 - 2 * LOG_LINE_MAX_BYTES,
      16383, // 5461 characters of 3 bytes: a 5462nd would not fit
      30000 - 16383,
      4,
    ]);
    const joined = (from: number, to: number) =>
      lines
        .slice(from, to)
        .map((line) => line.text)
        .join('');
    expect(joined(0, 3)).toBe('a'.repeat(40000));
    expect(joined(3, 5)).toBe('€'.repeat(10000));
    expect(lines.at(-1)).toMatchObject({ seq: 6, text: 'last' });
    expect(end).toMatchObject({ lastLogSeq: 6 });
  });

  it('batches a fast printer: 5,000 lines at once in a handful of chunks', async () => {
    const h = (harness = await startAgentHarness(testAmqpUrl(), SIZE_ONLY_CHUNKS));
    const { end, chunks } = await runScript(
      h,
      `let s = ''; for (let n = 1; n <= 5000; n++) s += 'line ' + n + '\\n'; process.stdout.write(s);`,
    );
    expect(end).toMatchObject({ lastLogSeq: 5000 });
    expect(linesOf(chunks).map((line) => line.text)).toEqual(
      Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`),
    );
    expect(chunks.length).toBeGreaterThanOrEqual(5); // at most 1,000 lines per chunk
    expect(chunks.length).toBeLessThanOrEqual(15);
  });

  it('names lastLogSeq 0 when the program printed nothing', async () => {
    const h = (harness = await startAgentHarness(testAmqpUrl()));
    const { end, chunks } = await runScript(h, '');
    expect(end).toMatchObject({ lastLogSeq: 0 });
    expect(chunks).toEqual([]);
  });

  it('ships 50 MB printed as fast as possible: bounded, every byte sent or announced', async () => {
    const h = (harness = await startAgentHarness(testAmqpUrl()));
    const totalLines = 512 * 1024; // of 99 bytes + newline: 50 MiB
    const { command, end } = await runScript(
      h,
      `const line = 'x'.repeat(99) + '\\n'; const block = line.repeat(1024);
       for (let i = 0; i < ${totalLines / 1024}; i++) require('node:fs').writeSync(1, block);`,
      30_000,
    );
    expect(end).toMatchObject({ lastLogSeq: totalLines });
    // The end report waits for the log only so long (then the rest follows it): wait for the last line.
    const chunksOf = () => h.logChunksOf(command.payload.executionId);
    await waitFor(() => chunksOf().some((chunk) => chunk.message.payload.lines.at(-1)?.seq === totalLines), {
      timeoutMs: 30_000,
      description: 'the chunk with the last line',
    });
    const chunks = chunksOf();
    let previous = 0;
    let accounted = 0;
    for (const chunk of chunks) {
      const { lines, droppedBytes } = chunk.message.payload;
      expect(droppedBytes).toBe(((lines[0]?.seq ?? 0) - previous - 1) * 99);
      previous = lines.at(-1)?.seq ?? previous;
      accounted += droppedBytes + lines.length * 99;
    }
    expect(previous).toBe(totalLines);
    expect(accounted).toBe(totalLines * 99);
  }, 60_000);
});
