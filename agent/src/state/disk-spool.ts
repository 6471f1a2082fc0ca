import {
  closeSync,
  existsSync,
  fdatasyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { LogChunkMessage } from '../logs/execution-log.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE, replaceFileDurably, writeAll } from './durable-file.js';

export type SpooledMessage = AgentMessage | LogChunkMessage;

/** Where the next record to send starts. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

export interface SpooledRecord {
  message: SpooledMessage;
  /** The position just after this record: commit it once the record is confirmed. */
  next: SpoolPosition;
}

export interface DiskSpoolOptions {
  dir: string;
  /** SPOOL_MAX_BYTES: beyond, the oldest log chunks are dropped (reports never are). */
  maxBytes: number;
  logger: Logger;
  /** A segment is closed and a new one begun past this size (default maxBytes / 16, 64 KiB–4 MiB). */
  segmentBytes?: number;
}

export interface SpoolStats {
  droppedChunks: number;
  droppedLines: number;
  droppedBytes: number;
}

const SEGMENT = /^(\d{12})\.jsonl$/;
const CURSOR = 'cursor.json';
const CARRY = 'carry.json';
/** Read at once when sending from the spool. */
const READ_BYTES = 1024 * 1024;

/**
 * An on-disk FIFO of the messages the broker has not confirmed yet, surviving a restart of the
 * agent: segment files of JSON lines, read from a cursor. Bounded by size: when the unsent bytes
 * pass `maxBytes`, the log chunks of the oldest segments are dropped (their text bytes are
 * "carried" to the next chunk of the same execution, which announces them in `droppedBytes`);
 * reports are never dropped. Records appended with `durable` are fsync'd (end reports).
 * Synchronous file I/O: records are small and this runs only while the broker is unreachable.
 */
export class DiskSpool {
  readonly #segmentBytes: number;
  /** Segment ids and sizes, oldest first; the last one is appended to. */
  #segments: Array<{ id: number; size: number }> = [];
  #read: SpoolPosition;
  #writeFd = -1;
  /** Segments whose log chunks were dropped already. */
  readonly #compacted = new Set<number>();
  /** Dropped text bytes per execution, to be announced by its next chunk. */
  #carry: Record<string, number> = {};
  #readLocked = false;
  readonly stats: SpoolStats = { droppedChunks: 0, droppedLines: 0, droppedBytes: 0 };

  constructor(private readonly options: DiskSpoolOptions) {
    ensurePrivateDir(options.dir);
    this.#segmentBytes =
      options.segmentBytes ??
      Math.min(4 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.maxBytes / 16)));
    for (const name of readdirSync(options.dir).sort()) {
      const match = SEGMENT.exec(name);
      if (match) this.#segments.push({ id: Number(match[1]), size: statSync(join(options.dir, name)).size });
    }
    const first = this.#segments[0];
    this.#read = { segment: first?.id ?? 1, offset: 0 };
    const cursor = readJson<SpoolPosition>(join(options.dir, CURSOR));
    if (cursor && this.#segments.some((segment) => segment.id === cursor.segment)) this.#read = cursor;
    this.#carry = readJson<Record<string, number>>(join(options.dir, CARRY)) ?? {};
    this.#dropTornTail();
    this.#releaseConsumed();
    if (this.bytes > 0)
      options.logger.info({ bytes: this.bytes }, 'spool: unsent messages found; sending them first');
  }

  /** Bytes appended and not committed yet. */
  get bytes(): number {
    let total = 0;
    for (const segment of this.#segments) total += segment.size;
    const reading = this.#segments.find((segment) => segment.id === this.#read.segment);
    return total - (reading ? Math.min(this.#read.offset, reading.size) : 0);
  }

  get isEmpty(): boolean {
    return this.bytes === 0;
  }

  append(message: SpooledMessage, { durable = false } = {}): void {
    let last = this.#segments.at(-1);
    if (!last || this.#writeFd === -1 || last.size >= this.#segmentBytes || this.#compacted.has(last.id)) {
      last = this.#roll();
    }
    const data = Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
    writeAll(this.#writeFd, data);
    if (durable) fdatasyncSync(this.#writeFd);
    last.size += data.length;
    if (this.bytes > this.options.maxBytes) this.#enforceBound();
  }

  /**
   * Reads the next records, from the cursor, within one segment. The reading segment is not
   * rewritten until `unlockRead()`: call it once the records are confirmed or given up.
   */
  readBatch(maxRecords: number): SpooledRecord[] {
    this.#releaseConsumed();
    const segment = this.#segments.find((candidate) => candidate.id === this.#read.segment);
    if (!segment || this.#read.offset >= segment.size) return [];
    this.#readLocked = true;
    const remaining = segment.size - this.#read.offset;
    let buffer = this.#readAt(segment.id, this.#read.offset, Math.min(remaining, READ_BYTES));
    // A record longer than one read: read the rest of the segment (a segment ends after one record).
    if (buffer.indexOf(0x0a) === -1) buffer = this.#readAt(segment.id, this.#read.offset, remaining);
    const records: SpooledRecord[] = [];
    let start = 0;
    for (
      let end = buffer.indexOf(0x0a);
      end !== -1 && records.length < maxRecords;
      end = buffer.indexOf(0x0a, start)
    ) {
      const next = { segment: segment.id, offset: this.#read.offset + end + 1 };
      const line = buffer.toString('utf8', start, end);
      start = end + 1;
      try {
        records.push({ message: JSON.parse(line) as SpooledMessage, next });
      } catch {
        this.options.logger.warn({ segment: segment.id }, 'spool: unreadable record skipped');
        if (records.length === 0) this.commit(next);
      }
    }
    return records;
  }

  unlockRead(): void {
    this.#readLocked = false;
    if (this.bytes > this.options.maxBytes) this.#enforceBound();
  }

  /** The records before `position` were confirmed: they are not read again, even after a restart. */
  commit(position: SpoolPosition): void {
    this.#read = position;
    writeFileSync(join(this.options.dir, CURSOR), JSON.stringify(position), { mode: PRIVATE_FILE_MODE });
    this.#releaseConsumed();
  }

  /** Text bytes dropped from this execution's log and not announced yet (taken: announce them). */
  takeCarry(executionId: string): number {
    const carried = this.#carry[executionId] ?? 0;
    if (carried > 0) {
      delete this.#carry[executionId];
      this.#saveCarry();
    }
    return carried;
  }

  returnCarry(executionId: string, bytes: number): void {
    if (bytes <= 0) return;
    this.#carry[executionId] = (this.#carry[executionId] ?? 0) + bytes;
    this.#saveCarry();
  }

  close(): void {
    if (this.#writeFd !== -1) closeSync(this.#writeFd);
    this.#writeFd = -1;
  }

  #readAt(segment: number, offset: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    const fd = openSync(this.#pathOf(segment), 'r');
    try {
      const read = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  #roll(): { id: number; size: number } {
    this.close();
    const segment = { id: (this.#segments.at(-1)?.id ?? 0) + 1, size: 0 };
    this.#writeFd = openSync(this.#pathOf(segment.id), 'a', PRIVATE_FILE_MODE);
    this.#segments.push(segment);
    if (this.#segments.length === 1) this.#read = { segment: segment.id, offset: 0 };
    return segment;
  }

  /** Deletes the segments read to their end (the last one is kept for appending, once emptied). */
  #releaseConsumed(): void {
    for (;;) {
      const first = this.#segments[0];
      if (!first || first.id !== this.#read.segment || this.#read.offset < first.size) break;
      if (this.#segments.length === 1) {
        if (first.size === 0) break;
        // Everything was sent: start a fresh segment rather than growing this one.
        this.close();
      }
      rmSync(this.#pathOf(first.id), { force: true });
      this.#segments.shift();
      this.#compacted.delete(first.id);
      this.#read = { segment: this.#segments[0]?.id ?? first.id + 1, offset: 0 };
      if (this.#segments.length === 0) rmSync(join(this.options.dir, CURSOR), { force: true });
    }
  }

  /** Drops the log chunks of the oldest segments until the spool is within its bound again. */
  #enforceBound(): void {
    for (const segment of [...this.#segments]) {
      if (this.bytes <= this.options.maxBytes) return;
      if (this.#compacted.has(segment.id)) continue;
      const reading = segment.id === this.#read.segment;
      if (reading && this.#readLocked) continue;
      if (segment === this.#segments.at(-1)) this.#roll();
      this.#dropLogChunks(segment, reading ? this.#read.offset : 0);
      if (reading) this.commit({ segment: segment.id, offset: 0 });
    }
  }

  #dropLogChunks(segment: { id: number; size: number }, from: number): void {
    const path = this.#pathOf(segment.id);
    const kept: string[] = [];
    let droppedChunks = 0;
    for (const line of readFileSync(path).subarray(from).toString('utf8').split('\n')) {
      if (line === '') continue;
      let message: SpooledMessage;
      try {
        message = JSON.parse(line) as SpooledMessage;
      } catch {
        continue;
      }
      if (message.type !== 'LogChunk') {
        kept.push(line);
        continue;
      }
      const { executionId, lines, droppedBytes } = message.payload;
      const textBytes = lines.reduce((sum, logLine) => sum + Buffer.byteLength(logLine.text, 'utf8'), 0);
      this.#carry[executionId] = (this.#carry[executionId] ?? 0) + droppedBytes + textBytes;
      droppedChunks++;
      this.stats.droppedChunks++;
      this.stats.droppedLines += lines.length;
      this.stats.droppedBytes += textBytes;
    }
    this.#saveCarry();
    const content = kept.length > 0 ? `${kept.join('\n')}\n` : '';
    replaceFileDurably(path, content);
    segment.size = Buffer.byteLength(content, 'utf8');
    this.#compacted.add(segment.id);
    this.options.logger.warn(
      { segment: segment.id, droppedChunks, maxBytes: this.options.maxBytes },
      'spool full: oldest log lines dropped (announced by the next chunk of each execution)',
    );
  }

  /** A crash in the middle of an append leaves a line without its newline: it was never sent, drop it. */
  #dropTornTail(): void {
    const last = this.#segments.at(-1);
    if (!last || last.size === 0) return;
    const content = readFileSync(this.#pathOf(last.id));
    const end = content.lastIndexOf(0x0a) + 1;
    if (end === content.length) return;
    replaceFileDurably(this.#pathOf(last.id), content.subarray(0, end));
    last.size = end;
  }

  #saveCarry(): void {
    writeFileSync(join(this.options.dir, CARRY), JSON.stringify(this.#carry), { mode: PRIVATE_FILE_MODE });
  }

  #pathOf(id: number): string {
    return join(this.options.dir, `${String(id).padStart(12, '0')}.jsonl`);
  }
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
