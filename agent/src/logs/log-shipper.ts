import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { settledWithin } from '../with-timeout.js';
import { ExecutionLog, type LogChunkSender, type LogPosition } from './execution-log.js';

export interface LogShipperOptions {
  sender: LogChunkSender;
  nodeId: string;
  /** LOG_FLUSH_MS: how long lines are collected before a chunk is sent. */
  flushMs: number;
  /** LOG_BUFFER_BYTES: per execution, read and not yet confirmed. */
  bufferBytes: number;
  logger: Logger;
  /** Unconfirmed chunks per execution (default 2). */
  maxInFlight?: number;
  /** How long an end report waits for its log (default 2 s). */
  endWaitMs?: number;
  /** How long the rest of an ended log may still go out after that (default 30 s). */
  lingerMs?: number;
  now?: () => Date;
  newId?: () => string;
}

export interface ExecutionLogIdentity {
  taskId: string;
  executionId: string;
  correlationId: string;
  /** See ExecutionLogOptions: where a log resumed after a restart goes on, and its journal hook. */
  resumeFrom?: LogPosition;
  onChunk?(position: LogPosition): void;
}

/**
 * Ships the output of every execution as LogChunks (see ExecutionLog), on a publisher of its own so
 * that a chatty program never delays reports. Holds the logs still sending, for shutdown.
 */
export class LogShipper {
  readonly #logs = new Set<ExecutionLog>();

  constructor(private readonly options: LogShipperOptions) {}

  open(identity: ExecutionLogIdentity, logger: Logger = this.options.logger): ExecutionLog {
    const log: ExecutionLog = new ExecutionLog({
      ...identity,
      nodeId: this.options.nodeId,
      sender: this.options.sender,
      flushMs: this.options.flushMs,
      bufferBytes: this.options.bufferBytes,
      maxInFlight: this.options.maxInFlight ?? 2,
      endWaitMs: this.options.endWaitMs ?? 2_000,
      lingerMs: this.options.lingerMs ?? 30_000,
      logger,
      now: this.options.now ?? (() => new Date()),
      newId: this.options.newId ?? randomUUID,
      onSettled: () => this.#logs.delete(log),
    });
    this.#logs.add(log);
    return log;
  }

  /** Logs still sending (open, or ended with chunks unconfirmed). */
  get size(): number {
    return this.#logs.size;
  }

  /** Bytes held by every log (see ExecutionLog.bufferedBytes). */
  get bufferedBytes(): number {
    let total = 0;
    for (const log of this.#logs) total += log.bufferedBytes;
    return total;
  }

  /** Waits up to `timeoutMs` for every log to be sent, then drops what is left; true when nothing was. */
  async stop(timeoutMs: number): Promise<boolean> {
    const logs = [...this.#logs];
    const sent = await settledWithin(Promise.all(logs.map((log) => log.idle())), timeoutMs);
    for (const log of logs) log.discard();
    return sent;
  }
}
