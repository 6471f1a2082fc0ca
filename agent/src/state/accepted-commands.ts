import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CLOCK_SKEW_MS } from '@meridian/contracts/security/command-signature';
import { ensurePrivateDir, PRIVATE_FILE_MODE, replaceFileDurably, writeAll } from './durable-file.js';

export interface AcceptedCommandsOptions {
  dir: string;
  logger: Logger;
  /** At most this many ids are kept; beyond, the ones that expire first go (default 100 000). */
  maxEntries?: number;
  /** The file is rewritten with the live ids once it grows past this (default 4 MiB). */
  compactAfterBytes?: number;
  now?: () => Date;
}

const FILE = 'accepted-commands.jsonl';

/**
 * The replay set: message ids of the signed commands this node accepted, each kept until its
 * signature expires (plus the clock skew the verifier allows), in `AGENT_DATA_DIR/accepted-commands.jsonl`.
 * After that a copy would be refused as expired anyway. Appended without fsync: it survives a crash
 * of the agent (what a broker redelivery follows), and after a power loss the execution journal
 * still recognises an ExecuteTask it accepted.
 */
export class AcceptedCommands {
  /** messageId -> epoch ms until which it is kept; insertion order is acceptance order. */
  readonly #until = new Map<string, number>();
  readonly #path: string;
  readonly #maxEntries: number;
  readonly #compactAfterBytes: number;
  readonly #now: () => Date;
  #fd = -1;
  #bytes = 0;

  constructor(private readonly options: AcceptedCommandsOptions) {
    ensurePrivateDir(options.dir);
    this.#path = join(options.dir, FILE);
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
    this.#now = options.now ?? (() => new Date());
    if (existsSync(this.#path)) this.#load(readFileSync(this.#path, 'utf8'));
    this.compact();
  }

  get size(): number {
    return this.#until.size;
  }

  /** True when this message id was accepted and is still remembered. */
  has(messageId: string): boolean {
    const until = this.#until.get(messageId);
    return until !== undefined && until >= this.#now().getTime();
  }

  /** Remembers an accepted command until its signature's expiry (plus the clock skew). */
  add(messageId: string, expiresAt: string): void {
    const until = Date.parse(expiresAt) + CLOCK_SKEW_MS;
    if (!Number.isFinite(until) || this.#until.get(messageId) === until) return;
    this.#until.set(messageId, until);
    if (this.#until.size > this.#maxEntries) this.#evictFirstExpiring();
    const data = Buffer.from(`${JSON.stringify({ id: messageId, until })}\n`, 'utf8');
    writeAll(this.#fd, data);
    this.#bytes += data.length;
    if (this.#bytes > this.#compactAfterBytes) this.compact();
  }

  /** Rewrites the file with the ids not yet expired. */
  compact(): void {
    this.#prune();
    const lines = [...this.#until].map(([id, until]) => JSON.stringify({ id, until }));
    if (this.#fd !== -1) closeSync(this.#fd);
    const content = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    replaceFileDurably(this.#path, content);
    this.#fd = openSync(this.#path, 'a', PRIVATE_FILE_MODE);
    this.#bytes = Buffer.byteLength(content);
  }

  close(): void {
    if (this.#fd === -1) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #load(text: string): void {
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const record = JSON.parse(line) as { id?: unknown; until?: unknown };
        if (typeof record.id !== 'string' || typeof record.until !== 'number') throw new Error('bad record');
        this.#until.set(record.id, record.until);
      } catch {
        unreadable++;
      }
    }
    if (unreadable > 0) {
      this.options.logger.warn({ unreadable }, 'accepted commands: unreadable lines ignored (a torn write)');
    }
  }

  #prune(): void {
    const now = this.#now().getTime();
    for (const [id, until] of this.#until) if (until < now) this.#until.delete(id);
    while (this.#until.size > this.#maxEntries) this.#evictFirstExpiring();
  }

  #evictFirstExpiring(): void {
    let first: [string, number] | undefined;
    for (const entry of this.#until) if (!first || entry[1] < first[1]) first = entry;
    if (first) this.#until.delete(first[0]);
  }
}
