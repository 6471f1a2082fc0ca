import type { Logger } from 'pino';
import { buildEnvelope, type EnvelopeOf } from '@meridian/contracts/messages/envelope';
import {
  LOG_CHUNK,
  LOG_CHUNK_MAX_LINES,
  LOG_CHUNK_SCHEMA_VERSION,
  type LogChunk,
  type LogLine,
  type LogStreamName,
} from '@meridian/contracts/messages/log-chunk';
import { settledWithin } from '../with-timeout.js';
import { LineSplitter } from './line-splitter.js';
import { LINE_OVERHEAD_BYTES, PendingLines } from './pending-lines.js';

export type LogChunkMessage = EnvelopeOf<typeof LOG_CHUNK, LogChunk>;

/** Publishes one chunk; resolves once the broker confirmed it, rejects when it did not. */
export interface LogChunkSender {
  send(message: LogChunkMessage): Promise<void>;
}

export interface ExecutionLogOptions {
  taskId: string;
  executionId: string;
  correlationId: string;
  nodeId: string;
  sender: LogChunkSender;
  /** How long the first line of a chunk waits for company. */
  flushMs: number;
  /** Bound on the bytes read and not yet confirmed (text + LINE_OVERHEAD_BYTES per line). */
  bufferBytes: number;
  /** Chunks published and not yet confirmed, at most. */
  maxInFlight: number;
  /** How long `end()` waits for the last chunk's confirmation. */
  endWaitMs: number;
  /** After an `end()` that timed out, how long the rest may still go out before it is dropped. */
  lingerMs: number;
  logger: Logger;
  now: () => Date;
  newId: () => string;
  /** Called once, when the log is ended and everything is sent, or when it is discarded. */
  onSettled(): void;
  /** Where a resumed log goes on (after an agent restart): the last seq used and the stream offsets. */
  resumeFrom?: LogPosition;
  /** Called before each chunk is handed to the sender, with the position it reaches. */
  onChunk?(position: LogPosition): void;
}

/**
 * How far a log went: the last seq handed to the sender (or dropped), and for each stream the
 * bytes of output up to which every line is accounted for. A restarted agent reads on from there.
 */
export interface LogPosition {
  seq: number;
  stdout: number;
  stderr: number;
}

/** A chunk holds at most this much text, and at most LOG_CHUNK_MAX_LINES lines. */
export const CHUNK_MAX_TEXT_BYTES = 64 * 1024;
const STREAMS: readonly LogStreamName[] = ['stdout', 'stderr'];

export interface ExecutionLogStats {
  lines: number;
  chunks: number;
  failedChunks: number;
  droppedLines: number;
  droppedBytes: number;
  /** Highest `bufferedBytes` seen. */
  maxBufferedBytes: number;
}

/**
 * The live log of one execution: splits stdout and stderr into lines, numbers them (`seq` 1, 2, 3…
 * across both streams), and publishes them in chunks, each closed after `flushMs` or once full.
 * Memory is bounded by `bufferBytes` (plus one line): when the broker does not confirm fast enough
 * the oldest unsent lines are dropped, keeping the newest, and the next chunk carries the dropped
 * byte count. A chunk the broker did not confirm is dropped the same way; nothing is retried here
 * beyond the publisher's one retry after a reconnect, so an outage cannot make the log queue up.
 */
export class ExecutionLog {
  readonly #splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  readonly #pending = new PendingLines();
  /** Bound on one chunk's cost (text + overhead), so that chunks in flight leave room in the buffer. */
  readonly #chunkMaxCost: number;
  #lastSeq: number;
  /** Bytes of each stream read into lines. */
  readonly #read: { stdout: number; stderr: number };
  /** Where every line handed over (or dropped) ends. */
  readonly #position: LogPosition;
  #inFlight = 0;
  #inFlightCost = 0;
  /** Dropped just before the oldest pending line, not announced yet. */
  #droppedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #due = false;
  #closed = false;
  #settled = false;
  #idleWaiters: Array<() => void> = [];
  readonly stats: ExecutionLogStats = {
    lines: 0,
    chunks: 0,
    failedChunks: 0,
    droppedLines: 0,
    droppedBytes: 0,
    maxBufferedBytes: 0,
  };

  constructor(private readonly options: ExecutionLogOptions) {
    // Room for the chunks in flight and one filling up, so that the bound does not starve sending.
    this.#chunkMaxCost = Math.max(1, Math.floor(options.bufferBytes / (options.maxInFlight + 2)));
    const from = options.resumeFrom ?? { seq: 0, stdout: 0, stderr: 0 };
    this.#lastSeq = from.seq;
    this.#read = { stdout: from.stdout, stderr: from.stderr };
    this.#position = { ...from };
  }

  /** The seq of the last line read (0 when none); dropped lines count. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Bytes held for lines read and not confirmed yet (text + overhead per line). */
  get bufferedBytes(): number {
    return this.#pending.cost + this.#inFlightCost;
  }

  append(stream: LogStreamName, chunk: Buffer | string): void {
    if (this.#closed) return;
    const ts = this.options.now().toISOString();
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.#splitters[stream].push(data, (text, bytes, consumed) =>
      this.#add(stream, ts, text, bytes, consumed),
    );
    this.#pump();
  }

  /**
   * The output ended: sends the unfinished last lines and waits (at most `endWaitMs`) until every
   * chunk is confirmed or given up. Resolves with the last seq, for the end report.
   */
  async end(): Promise<number> {
    if (!this.#closed) {
      this.#closed = true;
      const ts = this.options.now().toISOString();
      for (const stream of STREAMS)
        this.#splitters[stream].end((text, bytes, consumed) => this.#add(stream, ts, text, bytes, consumed));
      this.#pump();
      if (!(await settledWithin(this.idle(), this.options.endWaitMs)) && !this.#settled) {
        this.options.logger.warn(
          { bufferedBytes: this.bufferedBytes, lastSeq: this.#lastSeq },
          'log not confirmed by the broker in time; reporting the end anyway',
        );
        this.#lingerTimer = setTimeout(() => this.discard(), this.options.lingerMs);
      }
    }
    return this.#lastSeq;
  }

  /** Resolves once nothing is pending or in flight (or the log is discarded). */
  idle(): Promise<void> {
    if (this.#isIdle() || this.#settled) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops what is not sent yet and stops; chunks in flight settle on their own. */
  discard(): void {
    if (this.#settled) return;
    this.#closed = true;
    const pending = this.#pending.size;
    if (pending > 0) {
      this.stats.droppedLines += pending;
      this.stats.droppedBytes += this.#pending.cost - pending * LINE_OVERHEAD_BYTES;
      this.options.logger.warn({ lines: pending, lastSeq: this.#lastSeq }, 'unsent log lines dropped');
    }
    this.#pending.clear();
    this.#settle();
  }

  #add(stream: LogStreamName, ts: string, text: string, bytes: number, consumed: number): void {
    const cost = bytes + LINE_OVERHEAD_BYTES;
    this.#read[stream] += consumed;
    // Keep the newest: the end of a program's output is what its operator reads first.
    while (this.#pending.size > 0 && this.bufferedBytes + cost > this.options.bufferBytes) {
      const dropped = this.#pending.shift();
      if (!dropped) break;
      this.#droppedBytes += dropped.bytes;
      this.#passed(dropped.line, dropped.end);
      this.stats.droppedLines++;
      this.stats.droppedBytes += dropped.bytes;
    }
    this.#pending.push({ seq: ++this.#lastSeq, stream, ts, text }, bytes, this.#read[stream]);
    this.stats.lines++;
    this.stats.maxBufferedBytes = Math.max(this.stats.maxBufferedBytes, this.bufferedBytes);
  }

  #pump(): void {
    if (this.#settled) return;
    while (
      this.#inFlight < this.options.maxInFlight &&
      this.#pending.size > 0 &&
      (this.#due || this.#closed || this.#isChunkFull())
    ) {
      this.#sendChunk();
    }
    if (this.#pending.size === 0) {
      this.#due = false;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#isIdle()) this.#onIdle();
    } else if (!this.#due && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#pump();
      }, this.options.flushMs);
    }
  }

  #isChunkFull(): boolean {
    return (
      this.#pending.size >= LOG_CHUNK_MAX_LINES ||
      this.#pending.textBytes >= CHUNK_MAX_TEXT_BYTES ||
      this.#pending.cost >= this.#chunkMaxCost
    );
  }

  #isIdle(): boolean {
    return this.#pending.size === 0 && this.#inFlight === 0;
  }

  #sendChunk(): void {
    const lines: LogChunk['lines'] = [];
    let bytes = 0;
    const costBefore = this.#pending.cost;
    while (lines.length < LOG_CHUNK_MAX_LINES) {
      const next = this.#pending.oldestBytes;
      const fits =
        bytes + next <= CHUNK_MAX_TEXT_BYTES &&
        costBefore - this.#pending.cost + next + LINE_OVERHEAD_BYTES <= this.#chunkMaxCost;
      if (lines.length > 0 && !fits) break;
      const oldest = this.#pending.shift();
      if (!oldest) break;
      lines.push(oldest.line);
      bytes += oldest.bytes;
      this.#passed(oldest.line, oldest.end);
    }
    const cost = costBefore - this.#pending.cost;
    const droppedBytes = this.#droppedBytes;
    this.#droppedBytes = 0;
    this.#inFlight++;
    this.#inFlightCost += cost;
    this.stats.chunks++;
    this.options.onChunk?.({ ...this.#position });
    const { taskId, executionId, correlationId, nodeId } = this.options;
    const message = buildEnvelope(
      LOG_CHUNK,
      LOG_CHUNK_SCHEMA_VERSION,
      { messageId: this.options.newId(), occurredAt: this.options.now(), correlationId, nodeId },
      { taskId, executionId, lines, droppedBytes },
    );
    this.options.sender.send(message).then(
      () => this.#chunkSettled(cost),
      (error: unknown) => {
        // Announced by the next chunk, like lines dropped from the buffer.
        this.#droppedBytes += droppedBytes + bytes;
        this.stats.failedChunks++;
        this.stats.droppedLines += lines.length;
        this.stats.droppedBytes += bytes;
        if (this.stats.failedChunks % 100 === 1) {
          this.options.logger.warn(
            { err: error, failedChunks: this.stats.failedChunks },
            'log chunk not confirmed by the broker; its lines are dropped',
          );
        }
        this.#chunkSettled(cost);
      },
    );
  }

  #passed(line: LogLine, end: number): void {
    this.#position.seq = line.seq;
    this.#position[line.stream] = end;
  }

  #chunkSettled(cost: number): void {
    this.#inFlight--;
    this.#inFlightCost -= cost;
    this.#pump();
  }

  #onIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    if (this.#closed) this.#settle();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#lingerTimer);
    this.#timer = this.#lingerTimer = undefined;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    this.options.onSettled();
  }
}
