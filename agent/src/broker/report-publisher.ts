import type { Logger } from 'pino';
import { settledWithin } from '../with-timeout.js';
import { parseAgentMessage, type AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { LogChunkMessage, LogChunkSender } from '../logs/execution-log.js';
import type { SpooledMessage, SpooledRecord, SpoolPosition } from '../state/disk-spool.js';

/** Sends one message and resolves once the broker confirmed it; throws when it did not. */
export interface MessageSender {
  send(message: AgentMessage): Promise<void>;
}

/** The broker confirmed the message but no queue was bound for it. */
export class UnroutableError extends Error {
  override name = 'UnroutableError';
}

/** What the publisher needs of the on-disk spool (DiskSpool). */
export interface Spool {
  readonly isEmpty: boolean;
  readonly bytes: number;
  append(message: SpooledMessage, options?: { durable?: boolean }): void;
  readBatch(maxRecords: number): SpooledRecord[];
  unlockRead(): void;
  commit(position: SpoolPosition): void;
  takeCarry(executionId: string): number;
  /** Gives back what `takeCarry` returned, for a chunk that was not confirmed after all. */
  returnCarry(executionId: string, bytes: number): void;
}

export interface ReportPublisherOptions {
  sender: MessageSender;
  logSender: LogChunkSender;
  spool: Spool;
  /** False while the connection to the broker is down: messages then go straight to the spool. */
  isConnected(): boolean;
  /** Called for each terminal report the broker confirmed (also those sent from the spool). */
  onTerminalConfirmed?(message: AgentMessage): void;
  logger: Logger;
  retryDelayMs?: { min: number; max: number };
  /** Records sent at once from the spool (pipelined on the channel). */
  batchSize?: number;
}

interface Entry {
  message: SpooledMessage;
  state: 'sending' | 'confirmed' | 'failed';
  resolve(): void;
  reject(error: unknown): void;
}

const TERMINAL_TYPES: ReadonlySet<string> = new Set(['TaskCompleted', 'TaskFailed', 'TaskCancelled']);
const isTerminal = (message: SpooledMessage) => TERMINAL_TYPES.has(message.type);
/** Worth nothing once stale: never spooled, a fresh one follows within seconds. */
const isHeartbeat = (message: SpooledMessage) => message.type === 'AgentHeartbeat';
/** Not retried when no queue takes it (only status reports are worth waiting for a queue). */
const isDroppableWhenUnroutable = (message: SpooledMessage) => message.type === 'TaskProgress';

/**
 * Publishes the agent's reports and log chunks with publisher confirms. While the broker confirms,
 * each message is sent directly. Once a send fails (or the connection is down), that message and
 * every later one go to the on-disk spool, in order, and are sent from it, oldest first, when the
 * broker is back; direct sending resumes once the spool is empty. The spool survives a restart of
 * the agent and is bounded by size (see DiskSpool: the oldest log lines go first, reports never).
 * Heartbeats are never spooled. `publish` of a terminal report resolves once the broker confirmed
 * it (the command is acked only then); other messages resolve once confirmed or spooled.
 */
export class ReportPublisher implements LogChunkSender {
  /** Direct sends, in the order they were made. */
  #inFlight: Entry[] = [];
  /** Arrived while direct sends that may fail were still unsettled; spooled after them. */
  #waiting: Entry[] = [];
  /** Terminal reports spooled by this process, resolved once the broker confirms them. */
  readonly #awaiting = new Map<string, Entry>();
  readonly #unsettled = new Set<Promise<void>>();
  readonly #retryDelayMs: { min: number; max: number };
  readonly #batchSize: number;
  #spooling: boolean;
  #draining = false;
  #closed = false;
  #failures = 0;
  #wakeUp: (() => void) | undefined;

  constructor(private readonly options: ReportPublisherOptions) {
    this.#retryDelayMs = options.retryDelayMs ?? { min: 250, max: 10_000 };
    this.#batchSize = options.batchSize ?? 200;
    this.#spooling = !options.spool.isEmpty;
    if (this.#spooling) void this.#drain();
  }

  /** Bytes in the spool, not sent yet. */
  get spooledBytes(): number {
    return this.options.spool.bytes;
  }

  publish(message: AgentMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('report publisher is closed'));
    const valid = parseAgentMessage(message);
    if (!valid.ok)
      return Promise.reject(new Error(`refusing to publish an invalid message: ${valid.reason}`));
    if (isHeartbeat(message)) return this.#sendHeartbeat(message);
    return this.#track(this.#submit(message));
  }

  /** LogChunkSender, for the live logs: sent directly, or spooled when the broker is away. */
  send(message: LogChunkMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('report publisher is closed'));
    return this.#track(this.#submit(message));
  }

  /** Wakes the spool's sender (the connection is back). */
  wake(): void {
    this.#wakeUp?.();
    if (this.#spooling) void this.#drain();
  }

  /**
   * The connection was lost: direct sends still waiting for their confirm are spooled now rather
   * than when the client gives up on them (it may hold them until it reconnects). Should the
   * client deliver one after all, it arrives twice: same messageId, which the control plane dedupes.
   */
  connectionLost(): void {
    let moved = false;
    for (const entry of this.#inFlight) {
      if (entry.state !== 'sending') continue;
      entry.state = 'failed';
      moved = true;
    }
    if (!moved) return;
    this.#spooling = true;
    this.#settleInFlight();
  }

  /** Waits until every message so far is confirmed (the spool empty); false when `timeoutMs` passes first. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await settledWithin(Promise.allSettled([...this.#unsettled]), timeoutMs))) return false;
    while (this.#spooling || this.#inFlight.length > 0) {
      if (Date.now() >= deadline) return false;
      this.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Stops sending; what is spooled stays on disk for the next start. */
  close(): void {
    this.#closed = true;
    this.#wakeUp?.();
    for (const entry of this.#awaiting.values()) entry.reject(new Error('report publisher closed'));
    this.#awaiting.clear();
  }

  #track(promise: Promise<void>): Promise<void> {
    const forget = () => void this.#unsettled.delete(promise);
    this.#unsettled.add(promise);
    promise.then(forget, forget);
    return promise;
  }

  #submit(message: SpooledMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { message, state: 'sending', resolve, reject };
      if (!this.#spooling && this.options.isConnected()) this.#sendDirectly(entry);
      else this.#toSpool(entry);
    });
  }

  #sendHeartbeat(message: AgentMessage): Promise<void> {
    if (!this.options.isConnected()) return Promise.resolve();
    return this.options.sender.send(message).catch((error: unknown) => {
      this.options.logger.debug({ err: error }, 'heartbeat not confirmed; the next one follows');
    });
  }

  #sendDirectly(entry: Entry): void {
    this.#inFlight.push(entry);
    this.#sendOne(entry.message).then(
      () => {
        if (entry.state !== 'sending') return; // spooled already (connectionLost)
        entry.state = 'confirmed';
        this.#confirmed(entry.message);
        entry.resolve();
        this.#settleInFlight();
      },
      (error: unknown) => {
        if (entry.state !== 'sending') return;
        if (this.#isGivenUp(entry.message, error)) {
          entry.state = 'confirmed';
          entry.resolve();
        } else {
          if (!this.#spooling)
            this.options.logger.warn(
              { err: error },
              'message not confirmed by the broker; spooling messages to disk until it is back',
            );
          entry.state = 'failed';
          this.#spooling = true;
        }
        this.#settleInFlight();
      },
    );
  }

  /** Spools the failed direct sends in the order they were made, then what waited behind them. */
  #settleInFlight(): void {
    while (this.#inFlight[0] && this.#inFlight[0].state !== 'sending') {
      const entry = this.#inFlight.shift();
      if (entry?.state === 'failed') this.#append(entry);
    }
    if (this.#inFlight.length === 0) for (const entry of this.#waiting.splice(0)) this.#append(entry);
    if (this.#spooling) void this.#drain();
  }

  #toSpool(entry: Entry): void {
    this.#spooling = true;
    if (this.#inFlight.length > 0) this.#waiting.push(entry);
    else this.#append(entry);
    void this.#drain();
  }

  #append(entry: Entry): void {
    const terminal = isTerminal(entry.message);
    try {
      this.options.spool.append(entry.message, { durable: terminal });
    } catch (error) {
      this.options.logger.error({ err: error, type: entry.message.type }, 'spool: could not write a message');
      entry.reject(error);
      return;
    }
    if (terminal && !this.#closed) this.#awaiting.set(entry.message.messageId, entry);
    else entry.resolve();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#closed) {
        if (this.options.spool.isEmpty) {
          if (this.#inFlight.length === 0 && this.#waiting.length === 0) this.#spooling = false;
          return;
        }
        if (!this.options.isConnected()) {
          await this.#pause(this.#retryDelayMs.max);
          continue;
        }
        const failure = await this.#sendBatch();
        if (failure === undefined) {
          if (this.#failures > 0)
            this.options.logger.info({ spooledBytes: this.spooledBytes }, 'broker confirms messages again');
          this.#failures = 0;
        } else {
          this.#logFailure(failure);
          await this.#pause();
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Sends the next records of the spool together; commits the confirmed prefix. Returns the error, if any. */
  async #sendBatch(): Promise<unknown> {
    const spool = this.options.spool;
    const records = cutAtTerminalReport(spool.readBatch(this.#batchSize));
    const carried = new Map<number, { executionId: string; bytes: number }>();
    try {
      const results = await Promise.allSettled(
        records.map((record, index) => {
          const { message } = record;
          if (message.type === 'LogChunk') {
            const chunk = message;
            const bytes = spool.takeCarry(chunk.payload.executionId);
            if (bytes > 0) {
              carried.set(index, { executionId: chunk.payload.executionId, bytes });
              const payload = { ...chunk.payload, droppedBytes: chunk.payload.droppedBytes + bytes };
              return this.#sendOne({ ...chunk, payload });
            }
          }
          return this.#sendOne(message);
        }),
      );
      let failure: unknown;
      let committed: SpoolPosition | undefined;
      results.forEach((result, index) => {
        const record = records[index];
        if (!record) return;
        const ok = result.status === 'fulfilled' || this.#isGivenUp(record.message, result.reason);
        if (ok && failure === undefined) committed = record.next;
        if (ok) {
          if (result.status === 'fulfilled') this.#confirmed(record.message);
          const waiter = this.#awaiting.get(record.message.messageId);
          this.#awaiting.delete(record.message.messageId);
          waiter?.resolve();
        } else {
          failure ??= result.status === 'rejected' ? result.reason : undefined;
          const carry = carried.get(index);
          if (carry) spool.returnCarry(carry.executionId, carry.bytes);
        }
      });
      if (committed) spool.commit(committed);
      return failure;
    } finally {
      spool.unlockRead();
    }
  }

  #sendOne(message: SpooledMessage): Promise<void> {
    return message.type === 'LogChunk'
      ? this.options.logSender.send(message)
      : this.options.sender.send(message);
  }

  #confirmed(message: SpooledMessage): void {
    if (isTerminal(message)) this.options.onTerminalConfirmed?.(message as AgentMessage);
  }

  /** A progress report nobody takes is not worth keeping; everything else is retried. */
  #isGivenUp(message: SpooledMessage, error: unknown): boolean {
    if (!(error instanceof UnroutableError) || !isDroppableWhenUnroutable(message)) return false;
    this.options.logger.debug({ type: message.type }, 'unroutable message dropped');
    return true;
  }

  #pause(ms?: number): Promise<void> {
    const { min, max } = this.#retryDelayMs;
    const delay = ms ?? Math.min(max, min * 2 ** Math.min(Math.max(0, this.#failures - 1), 16));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wakeUp = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
    });
  }

  #logFailure(error: unknown): void {
    this.#failures++;
    if (this.#failures % 20 === 1) {
      this.options.logger.warn(
        { err: error, spooledBytes: this.spooledBytes, failures: this.#failures },
        'spooled messages still not confirmed by the broker; retrying',
      );
    }
  }
}

/**
 * A terminal report goes only after everything before it is confirmed (the end report follows its
 * log), so it is only ever the first record of a batch.
 */
function cutAtTerminalReport(records: SpooledRecord[]): SpooledRecord[] {
  const cut = records.findIndex((record, index) => index > 0 && isTerminal(record.message));
  return cut === -1 ? records : records.slice(0, cut);
}
