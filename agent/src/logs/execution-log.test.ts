import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EnvelopeSchema } from '@meridian/contracts/messages/envelope';
import { LOG_CHUNK_MAX_LINES, LogChunkSchema } from '@meridian/contracts/messages/log-chunk';
import { FakeLogSender } from '../testing/fake-log-sender.js';
import {
  CHUNK_MAX_TEXT_BYTES,
  ExecutionLog,
  type ExecutionLogOptions,
  type LogPosition,
} from './execution-log.js';

const ids = { taskId: randomUUID(), executionId: randomUUID(), correlationId: 'corr-1', nodeId: 'node-1' };
const T0 = Date.parse('2026-11-23T10:00:00.000Z');

function setup(overrides: Partial<ExecutionLogOptions> = {}) {
  const sender = new FakeLogSender();
  let clock = T0;
  let settled = 0;
  const log = new ExecutionLog({
    ...ids,
    sender,
    flushMs: 5,
    bufferBytes: 1024 * 1024,
    maxInFlight: 2,
    endWaitMs: 200,
    lingerMs: 50,
    logger: pino({ level: 'silent' }),
    now: () => new Date(clock),
    newId: randomUUID,
    onSettled: () => settled++,
    ...overrides,
  });
  return {
    log,
    sender,
    tick: (ms: number) => (clock += ms),
    settledCount: () => settled,
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** Moves the fake clock, running the timers due and the promise callbacks they cause. */
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('ExecutionLog', () => {
  // The flush, end-wait and linger timers run on a fake clock: what is sent when does not depend
  // on how busy the machine is. setImmediate stays real (nextTurn).
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('numbers the lines of both streams 1, 2, 3… in the order read, with stream and read time', async () => {
    const { log, sender, tick } = setup();
    log.append('stdout', 'starting\nhal');
    tick(7);
    log.append('stderr', 'warning: low memory\n');
    tick(3);
    log.append('stdout', 'f done\nno newline');
    expect(await log.end()).toBe(4);

    expect(sender.lines()).toEqual([
      { seq: 1, stream: 'stdout', ts: '2026-11-23T10:00:00.000Z', text: 'starting' },
      { seq: 2, stream: 'stderr', ts: '2026-11-23T10:00:00.007Z', text: 'warning: low memory' },
      { seq: 3, stream: 'stdout', ts: '2026-11-23T10:00:00.010Z', text: 'half done' },
      { seq: 4, stream: 'stdout', ts: '2026-11-23T10:00:00.010Z', text: 'no newline' },
    ]);
  });

  it('sends a LogChunk envelope the contracts accept', async () => {
    const { log, sender } = setup();
    log.append('stdout', 'hello\n');
    await log.end();
    const [chunk] = sender.confirmed;
    expect(EnvelopeSchema.parse(chunk)).toMatchObject({
      type: 'LogChunk',
      schemaVersion: 1,
      correlationId: 'corr-1',
      nodeId: 'node-1',
    });
    expect(LogChunkSchema.parse(chunk?.payload)).toEqual({
      taskId: ids.taskId,
      executionId: ids.executionId,
      droppedBytes: 0,
      lines: [{ seq: 1, stream: 'stdout', ts: '2026-11-23T10:00:00.000Z', text: 'hello' }],
    });
  });

  it('collects lines for flushMs before sending them as one chunk', async () => {
    const { log, sender } = setup({ flushMs: 30 });
    for (let n = 1; n <= 50; n++) log.append('stdout', `line ${n}\n`);
    await elapse(29);
    expect(sender.confirmed).toHaveLength(0);
    await elapse(1);
    expect(sender.confirmed).toHaveLength(1);
    expect(sender.confirmed[0]?.payload.lines).toHaveLength(50);
  });

  it(`closes a chunk at ${LOG_CHUNK_MAX_LINES} lines or ~64 KiB without waiting`, async () => {
    const { log, sender } = setup({ flushMs: 10_000 });
    log.append('stdout', 'x\n'.repeat(LOG_CHUNK_MAX_LINES * 2 + 1));
    await nextTurn();
    expect(sender.confirmed.map((c) => c.payload.lines.length)).toEqual([
      LOG_CHUNK_MAX_LINES,
      LOG_CHUNK_MAX_LINES,
    ]);

    const big = setup({ flushMs: 10_000 });
    big.log.append('stdout', `${'y'.repeat(1000)}\n`.repeat(200));
    await nextTurn();
    const perChunk = Math.floor(CHUNK_MAX_TEXT_BYTES / 1000);
    expect(big.sender.confirmed.map((c) => c.payload.lines.length)).toEqual([perChunk, perChunk, perChunk]);
    await big.log.end();
    expect(big.sender.lines()).toHaveLength(200);
  });

  it('keeps at most maxInFlight chunks unconfirmed', async () => {
    const { log, sender } = setup({ maxInFlight: 2 });
    sender.mode = 'hold';
    log.append('stdout', 'x\n'.repeat(LOG_CHUNK_MAX_LINES * 5));
    await nextTurn();
    expect(sender.heldCount).toBe(2);
    sender.release();
    await log.end();
    expect(sender.maxUnconfirmed).toBe(2);
    expect(sender.lines().map((l) => l.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  it('drops the oldest unsent lines beyond its buffer and announces their bytes in the next chunk', async () => {
    const bufferBytes = 64 * 1024;
    const { log, sender } = setup({ bufferBytes, flushMs: 1 });
    sender.mode = 'hold';
    const line = (n: number) => `line ${String(n).padStart(5, '0')} ${'.'.repeat(89)}`; // 100 bytes
    for (let n = 1; n <= 5000; n++) log.append(n % 2 ? 'stdout' : 'stderr', `${line(n)}\n`);
    expect(log.bufferedBytes).toBeLessThanOrEqual(bufferBytes);
    sender.release();
    expect(await log.end()).toBe(5000);

    const lines = sender.lines();
    expect(lines.at(-1)).toMatchObject({ seq: 5000, text: line(5000) });
    expect(lines.every((l) => l.text === line(l.seq))).toBe(true);
    const dropped = sender.confirmed.reduce((sum, c) => sum + c.payload.droppedBytes, 0);
    expect(dropped).toBe((5000 - lines.length) * 100);
    expect(log.stats).toMatchObject({
      lines: 5000,
      droppedLines: 5000 - lines.length,
      droppedBytes: dropped,
    });
    expectGapsAnnounced(sender, 100);
  });

  it('announces the lines of a chunk the broker refused in the next chunk', async () => {
    const { log, sender } = setup();
    sender.mode = 'fail';
    log.append('stdout', 'lost 1\nlost 2\n');
    await elapse(5);
    expect(log.stats.failedChunks).toBe(1);
    sender.mode = 'confirm';
    log.append('stderr', 'kept\n');
    expect(await log.end()).toBe(3);
    expect(sender.confirmed.map((c) => c.payload)).toMatchObject([
      { droppedBytes: 12, lines: [{ seq: 3, text: 'kept' }] },
    ]);
  });

  it('ends at once with lastSeq 0 when nothing was printed', async () => {
    const { log, sender, settledCount } = setup();
    expect(await log.end()).toBe(0);
    expect(sender.confirmed).toHaveLength(0);
    expect(settledCount()).toBe(1);
  });

  it('waits for the last chunk to be confirmed before end() resolves', async () => {
    const { log, sender } = setup({ endWaitMs: 5_000 });
    sender.mode = 'slow';
    sender.delayMs = 30;
    log.append('stdout', 'a\nb\nc');
    let lastSeq: number | undefined;
    void log.end().then((seq) => (lastSeq = seq));
    await elapse(29);
    expect(lastSeq).toBeUndefined();
    await elapse(1);
    expect(lastSeq).toBe(3);
    expect(sender.lines().map((l) => l.text)).toEqual(['a', 'b', 'c']);
  });

  it('gives up waiting after endWaitMs, then drops what is left after lingerMs', async () => {
    const { log, sender, settledCount } = setup({ endWaitMs: 50, lingerMs: 50, maxInFlight: 1 });
    sender.mode = 'hold';
    log.append('stdout', 'x\n'.repeat(LOG_CHUNK_MAX_LINES + 10));
    let lastSeq: number | undefined;
    void log.end().then((seq) => (lastSeq = seq));
    await elapse(50);
    expect(lastSeq).toBe(LOG_CHUNK_MAX_LINES + 10);
    await elapse(49);
    expect(settledCount()).toBe(0);
    await elapse(1);
    expect(settledCount()).toBe(1);
    expect(log.stats.droppedLines).toBe(10);
    sender.release();
    await nextTurn();
    expect(sender.lines()).toHaveLength(LOG_CHUNK_MAX_LINES);
  });

  it('ignores output after the end', async () => {
    const { log, sender } = setup();
    log.append('stdout', 'one\n');
    await log.end();
    log.append('stdout', 'two\n');
    await elapse(20);
    expect(sender.lines().map((l) => l.text)).toEqual(['one']);
    expect(log.lastSeq).toBe(1);
  });

  it('journals, before each chunk goes, the seq and stream offsets it reaches; a resumed log goes on from there', async () => {
    const positions: LogPosition[] = [];
    const { log, sender } = setup({ onChunk: (position) => positions.push(position) });
    log.append('stdout', 'one\ntw');
    log.append('stderr', 'err\r\n');
    // The chunk goes when the (fake) flushMs timer fires.
    const idle = log.idle();
    await elapse(5);
    await idle;
    // The unfinished "tw" is not accounted for yet: a restarted agent reads it again.
    expect(positions.at(-1)).toEqual({ seq: 2, stdout: 4, stderr: 5 });

    const resumed = setup({ resumeFrom: { seq: 2, stdout: 4, stderr: 5 } });
    resumed.log.append('stdout', 'two\n');
    await resumed.log.end();
    expect(
      resumed.sender.confirmed.flatMap((chunk) => chunk.payload.lines.map((l) => `${l.seq}:${l.text}`)),
    ).toEqual(['3:two']);
    expect(sender.confirmed.length).toBeGreaterThan(0);
  });
});

/** Each hole in the seq numbers is announced by the chunk after it, with `lineBytes` per missing line. */
function expectGapsAnnounced(sender: FakeLogSender, lineBytes: number): void {
  let previous = 0;
  for (const chunk of sender.confirmed) {
    const first = chunk.payload.lines[0]?.seq ?? 0;
    expect(chunk.payload.droppedBytes).toBe((first - previous - 1) * lineBytes);
    for (const [index, line] of chunk.payload.lines.entries()) expect(line.seq).toBe(first + index);
    previous = chunk.payload.lines.at(-1)?.seq ?? previous;
  }
}
