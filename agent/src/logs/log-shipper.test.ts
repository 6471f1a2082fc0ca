import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOG_LINE_MAX_BYTES } from '@meridian/contracts/messages/log-chunk';
import { FakeLogSender } from '../testing/fake-log-sender.js';
import { LogShipper } from './log-shipper.js';
import { LINE_OVERHEAD_BYTES } from './pending-lines.js';

const MiB = 1024 * 1024;
const READ_BYTES = 64 * 1024;

function setup(sender: FakeLogSender, bufferBytes = MiB) {
  return new LogShipper({
    sender,
    nodeId: 'node-1',
    flushMs: 20,
    bufferBytes,
    logger: pino({ level: 'silent' }),
  });
}

const identity = () => ({ taskId: randomUUID(), executionId: randomUUID(), correlationId: 'c' });
/** Line n of the flood: its number, then filler up to LINE_BYTES. */
const floodLine = (n: number) => `${String(n).padStart(8, '0')} ${'x'.repeat(90)}`;
const LINE_BYTES = 99;

/** The program's pace, on the fake clock: one 64 KiB read per millisecond (64 MB/s). */
const READ_EVERY_MS = 1;

/**
 * Writes `totalBytes` of numbered lines in 64 KiB reads, one read per READ_EVERY_MS of fake time
 * like a pipe, lines cut across reads; then ends the log and runs the clock until it is sent.
 * Samples the bytes the shipper holds. Time is fake so that how many chunks the slow publisher
 * confirms during the flood is set by the test's pace, not by the speed of the machine.
 */
async function flood(shipper: LogShipper, totalBytes: number, onWritten: () => void) {
  const log = shipper.open(identity());
  let carry = '';
  let written = 0;
  let lines = 0;
  let maxBuffered = 0;
  while (written < totalBytes) {
    while (carry.length < READ_BYTES) carry += `${floodLine(++lines)}\n`;
    log.append('stdout', carry.slice(0, READ_BYTES));
    carry = carry.slice(READ_BYTES);
    written += READ_BYTES;
    maxBuffered = Math.max(maxBuffered, shipper.bufferedBytes);
    await vi.advanceTimersByTimeAsync(READ_EVERY_MS);
  }
  log.append('stdout', carry);
  onWritten();
  const ending = log.end();
  await vi.runAllTimersAsync();
  const lastSeq = await ending;
  return { log, lines, lastSeq, maxBuffered };
}

describe('LogShipper', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    { name: 'a slow publisher', mode: 'slow' as const },
    { name: 'a publisher blocked until the program ended', mode: 'hold' as const },
  ])(
    'stays within LOG_BUFFER_BYTES for 50 MB of output through $name',
    async ({ mode }) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const sender = new FakeLogSender();
      sender.mode = mode;
      // Two chunks in flight, each confirmed after 20 ms: ~100 chunks/s against ~1000 reads/s.
      sender.delayMs = 20;
      const shipper = setup(sender);

      // Blocked: nothing is confirmed while the 50 MB go through, released once the program ended.
      const { log, lines, lastSeq, maxBuffered } = await flood(shipper, 50 * MiB, () => {
        if (mode === 'hold') setTimeout(() => sender.release(), 100);
      });

      // Memory: what is held never exceeds the buffer by more than one line.
      const bound = MiB + LOG_LINE_MAX_BYTES + LINE_OVERHEAD_BYTES;
      expect(maxBuffered).toBeLessThanOrEqual(bound);
      expect(log.stats.maxBufferedBytes).toBeLessThanOrEqual(bound);
      expect(sender.maxUnconfirmed).toBeLessThanOrEqual(2);

      // Every line has its number; what was not sent is announced, byte for byte.
      expect(lastSeq).toBe(lines);
      const received = sender.lines();
      expect(received.length).toBeLessThan(lines / 4);
      expect(received.at(-1)).toMatchObject({ seq: lines, text: floodLine(lines) });
      let previous = 0;
      let sentBytes = 0;
      let droppedBytes = 0;
      for (const chunk of sender.confirmed) {
        const seqs = chunk.payload.lines.map((line) => line.seq);
        const first = seqs[0] ?? 0;
        expect(chunk.payload.droppedBytes).toBe((first - previous - 1) * LINE_BYTES);
        expect(seqs).toEqual(seqs.map((_, index) => first + index));
        previous = seqs.at(-1) ?? previous;
        droppedBytes += chunk.payload.droppedBytes;
        for (const line of chunk.payload.lines) {
          expect(line.text).toBe(floodLine(line.seq));
          sentBytes += Buffer.byteLength(line.text);
        }
      }
      expect(sentBytes + droppedBytes).toBe(lines * LINE_BYTES);
      expect(log.stats).toMatchObject({ lines, droppedBytes, failedChunks: 0 });
      expect(shipper.size).toBe(0);
      expect(shipper.bufferedBytes).toBe(0);
    },
    60_000,
  );

  it('forgets a log once it is ended and sent', async () => {
    const sender = new FakeLogSender();
    const shipper = setup(sender);
    const log = shipper.open(identity());
    log.append('stdout', 'one\n');
    expect(shipper.size).toBe(1);
    expect(await log.end()).toBe(1);
    expect(shipper.size).toBe(0);
  });

  it('stops: waits for what is in flight, then drops the rest', async () => {
    const sender = new FakeLogSender();
    sender.mode = 'hold';
    const shipper = setup(sender);
    const log = shipper.open(identity());
    log.append('stdout', 'never confirmed\n');
    await expect.poll(() => sender.heldCount).toBe(1);
    log.append('stdout', 'never sent\n');
    expect(await shipper.stop(5)).toBe(false);
    expect(shipper.size).toBe(0);
    expect(log.stats.droppedLines).toBe(1);
    sender.release();
  });
});
