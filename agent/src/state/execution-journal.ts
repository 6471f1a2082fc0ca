import { closeSync, existsSync, fdatasyncSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { ensurePrivateDir, PRIVATE_FILE_MODE, replaceFileDurably, writeAll } from './durable-file.js';

/** What the journal keeps of an ExecuteTask: enough to report on it and to enforce its deadline. */
export interface JournalledTask {
  taskId: string;
  executionId: string;
  correlationId: string;
  type: string;
  attempt: number;
  /** The effective deadline (ISO), fixed when the command arrived. */
  deadline: string;
}

/** The program of an execution: its process group leader, identified beyond its reusable pid. */
export interface JournalledProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): a reused pid has another one. */
  startTime: string;
}

/** How far the live log was published: bytes of each output file consumed, and the last seq used. */
export interface LogPosition {
  seq: number;
  stdout: number;
  stderr: number;
}

export type TerminalReport = Extract<
  AgentMessage,
  { type: 'TaskCompleted' | 'TaskFailed' | 'TaskCancelled' }
>;

export interface JournalEntry {
  task: JournalledTask;
  acceptedAt: string;
  /** Highest report `sequence` used; a resumed execution goes on after it. */
  lastSequence: number;
  /** Set once the work began (a handler called `started`); `process` when it spawned one. */
  started?: { process?: JournalledProcess };
  log?: LogPosition;
  /** The terminal report, written before it is sent. */
  end?: TerminalReport;
  /** When the broker confirmed the terminal report: the execution is done, kept only for dedupe. */
  confirmedAt?: string;
}

type JournalRecord =
  | { k: 'accepted'; task: JournalledTask; at: string }
  | { k: 'sequence'; id: string; sequence: number }
  | { k: 'started'; id: string; process?: JournalledProcess }
  | { k: 'log'; id: string; position: LogPosition }
  | { k: 'ended'; id: string; report: TerminalReport }
  | { k: 'confirmed'; id: string; at: string };

export interface ExecutionJournalOptions {
  dir: string;
  logger: Logger;
  /** Confirmed executions are remembered this long (redeliveries are acked without running). */
  retainMs?: number;
  /** At most this many confirmed executions are remembered; the oldest go first. */
  retainMax?: number;
  /** The file is rewritten from memory once it grows past this. */
  compactAfterBytes?: number;
  now?: () => Date;
}

const FILE = 'journal.jsonl';

/**
 * The agent's durable memory of its executions, in `AGENT_DATA_DIR/journal.jsonl`: one JSON record
 * per line, appended. Accepted and ended records are fsync'd before the agent acts on them (runs the
 * work, sends the report), so they survive a power loss; the others (report sequences, process
 * ids, log positions) are written without fsync and survive a crash of the agent, not of the
 * machine. When the file grows past `compactAfterBytes` it is replaced atomically by a snapshot of
 * what is still needed. A torn last line (a crash in the middle of a write) is ignored on reading.
 */
export class ExecutionJournal {
  readonly #entries = new Map<string, JournalEntry>();
  readonly #path: string;
  readonly #retainMs: number;
  readonly #retainMax: number;
  readonly #compactAfterBytes: number;
  readonly #now: () => Date;
  #fd: number;
  #bytes = 0;

  constructor(private readonly options: ExecutionJournalOptions) {
    ensurePrivateDir(options.dir);
    this.#path = join(options.dir, FILE);
    this.#retainMs = options.retainMs ?? 24 * 3600_000;
    this.#retainMax = options.retainMax ?? 10_000;
    this.#compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
    this.#now = options.now ?? (() => new Date());
    if (existsSync(this.#path)) this.#load(readFileSync(this.#path, 'utf8'));
    this.#fd = -1;
    this.compact();
  }

  get(executionId: string): JournalEntry | undefined {
    return this.#entries.get(executionId);
  }

  /** Executions whose terminal report the broker has not confirmed yet. */
  unfinished(): JournalEntry[] {
    return [...this.#entries.values()].filter((entry) => entry.confirmedAt === undefined);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Durable before it returns: from now on the agent never runs this execution again. */
  accepted(task: JournalledTask): void {
    const at = this.#now().toISOString();
    this.#apply({ k: 'accepted', task, at }, { durable: true });
  }

  sequenceUsed(executionId: string, sequence: number): void {
    const entry = this.#entries.get(executionId);
    if (!entry || sequence <= entry.lastSequence) return;
    this.#apply({ k: 'sequence', id: executionId, sequence });
  }

  started(executionId: string, process?: JournalledProcess): void {
    this.#apply({ k: 'started', id: executionId, ...(process ? { process } : {}) });
  }

  logPublished(executionId: string, position: LogPosition): void {
    this.#apply({ k: 'log', id: executionId, position });
  }

  /** Durable before it returns: the report is sent after, and again after a restart until confirmed. */
  ended(report: TerminalReport): void {
    this.#apply({ k: 'ended', id: report.payload.executionId, report }, { durable: true });
  }

  confirmed(executionId: string): void {
    if (this.#entries.get(executionId)?.confirmedAt !== undefined) return;
    this.#apply({ k: 'confirmed', id: executionId, at: this.#now().toISOString() });
  }

  /** Rewrites the file with what is still needed (unfinished executions, recent confirmed ones). */
  compact(): void {
    this.#prune();
    const lines: string[] = [];
    for (const entry of this.#entries.values()) {
      for (const record of snapshotOf(entry)) lines.push(JSON.stringify(record));
    }
    const content = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    if (this.#fd !== -1) closeSync(this.#fd);
    replaceFileDurably(this.#path, content);
    this.#fd = openSync(this.#path, 'a', PRIVATE_FILE_MODE);
    this.#bytes = fstatSync(this.#fd).size;
  }

  close(): void {
    if (this.#fd === -1) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #apply(record: JournalRecord, { durable = false } = {}): void {
    if (!applyRecord(this.#entries, record)) return;
    if (this.#fd === -1) return;
    const data = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    writeAll(this.#fd, data);
    if (durable) fdatasyncSync(this.#fd);
    this.#bytes += data.length;
    if (this.#bytes > this.#compactAfterBytes) this.compact();
  }

  #load(text: string): void {
    let torn = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        applyRecord(this.#entries, JSON.parse(line) as JournalRecord);
      } catch {
        torn++;
      }
    }
    if (torn > 0) this.options.logger.warn({ torn }, 'journal: unreadable lines ignored (a torn write)');
  }

  #prune(): void {
    const oldest = this.#now().getTime() - this.#retainMs;
    const confirmed = [...this.#entries.values()]
      .filter((entry) => entry.confirmedAt !== undefined)
      .sort((a, b) => Date.parse(a.confirmedAt ?? '') - Date.parse(b.confirmedAt ?? ''));
    const excess = Math.max(0, confirmed.length - this.#retainMax);
    confirmed.forEach((entry, index) => {
      if (index < excess || Date.parse(entry.confirmedAt ?? '') < oldest)
        this.#entries.delete(entry.task.executionId);
    });
  }
}

/** Applies one record to the entries; false when it changes nothing (or names no known execution). */
export function applyRecord(entries: Map<string, JournalEntry>, record: JournalRecord): boolean {
  if (record.k === 'accepted') {
    if (entries.has(record.task.executionId)) return false;
    entries.set(record.task.executionId, { task: record.task, acceptedAt: record.at, lastSequence: -1 });
    return true;
  }
  const entry = entries.get(record.id);
  if (!entry) return false;
  switch (record.k) {
    case 'sequence':
      entry.lastSequence = Math.max(entry.lastSequence, record.sequence);
      return true;
    case 'started':
      entry.started = record.process ? { process: record.process } : {};
      return true;
    case 'log':
      entry.log = record.position;
      return true;
    case 'ended':
      entry.end = record.report;
      entry.lastSequence = Math.max(entry.lastSequence, record.report.payload.sequence);
      return true;
    case 'confirmed':
      // Done: kept only to recognise redeliveries, so without its (possibly large) end report.
      entries.set(record.id, {
        task: entry.task,
        acceptedAt: entry.acceptedAt,
        lastSequence: entry.lastSequence,
        confirmedAt: record.at,
      });
      return true;
  }
}

function snapshotOf(entry: JournalEntry): JournalRecord[] {
  const id = entry.task.executionId;
  const records: JournalRecord[] = [{ k: 'accepted', task: entry.task, at: entry.acceptedAt }];
  if (entry.confirmedAt !== undefined) {
    // Kept only to recognise redeliveries: the rest is not needed any more.
    records.push({ k: 'confirmed', id, at: entry.confirmedAt });
    return records;
  }
  if (entry.lastSequence >= 0) records.push({ k: 'sequence', id, sequence: entry.lastSequence });
  if (entry.started) records.push({ k: 'started', id, ...entry.started });
  if (entry.log) records.push({ k: 'log', id, position: entry.log });
  if (entry.end) records.push({ k: 'ended', id, report: entry.end });
  return records;
}
