import type { Logger } from 'pino';
import { settledWithin } from '../with-timeout.js';
import { parseAgentMessage, type AgentMessage } from '@meridian/contracts/messages/agent-message';

/** Sends one message and resolves once the broker confirmed it; throws when it did not. */
export interface MessageSender {
  send(message: AgentMessage): Promise<void>;
}

/** The broker confirmed the message but no queue was bound for it. */
export class UnroutableError extends Error {
  override name = 'UnroutableError';
}

export interface ReportPublisherOptions {
  sender: MessageSender;
  logger: Logger;
  /** Messages held while the broker is unreachable, beyond which droppable ones are dropped. */
  maxBuffered?: number;
  retryDelayMs?: { min: number; max: number };
}

interface Pending {
  message: AgentMessage;
  resolve(): void;
  reject(error: unknown): void;
}

/** A stale heartbeat or progress report is worth less than memory; status reports are never dropped. */
const DROPPABLE_TYPES: ReadonlySet<string> = new Set(['AgentHeartbeat', 'TaskProgress']);
const isDroppable = (pending: Pending) => DROPPABLE_TYPES.has(pending.message.type);

/**
 * Publishes agent messages with confirms and keeps them while the broker is away: a failed send
 * goes to an in-memory backlog retried in order with backoff until the broker confirms it. The
 * backlog is bounded by dropping the oldest heartbeats and progress reports; status reports stay
 * (their number is bounded anyway: an execution holds its slot until its terminal report is
 * confirmed). `publish` resolves on confirmation and rejects only once the publisher is closed.
 */
export class ReportPublisher {
  readonly #backlog: Pending[] = [];
  readonly #unsettled = new Set<Promise<void>>();
  readonly #maxBuffered: number;
  readonly #retryDelayMs: { min: number; max: number };
  #draining = false;
  #closed = false;
  #failures = 0;
  #wakeUp: (() => void) | undefined;

  constructor(private readonly options: ReportPublisherOptions) {
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#retryDelayMs = options.retryDelayMs ?? { min: 250, max: 10_000 };
  }

  get backlogSize(): number {
    return this.#backlog.length;
  }

  publish(message: AgentMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('report publisher is closed'));
    const valid = parseAgentMessage(message);
    if (!valid.ok)
      return Promise.reject(new Error(`refusing to publish an invalid message: ${valid.reason}`));
    const promise = new Promise<void>((resolve, reject) => {
      const pending = { message, resolve, reject };
      if (this.#backlog.length > 0 || this.#draining) this.#enqueue(pending);
      else this.#sendDirectly(pending);
    });
    const forget = () => void this.#unsettled.delete(promise);
    this.#unsettled.add(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Waits until every message published so far is settled; false when `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    return settledWithin(Promise.allSettled([...this.#unsettled]), timeoutMs);
  }

  /** Stops retrying and rejects what is still held. */
  close(): void {
    this.#closed = true;
    this.#wakeUp?.();
    for (const pending of this.#backlog.splice(0)) pending.reject(new Error('report publisher closed'));
  }

  #sendDirectly(pending: Pending): void {
    this.options.sender.send(pending.message).then(
      () => pending.resolve(),
      (error: unknown) => {
        if (this.#closed) pending.reject(error);
        else if (!this.#dropIfUnroutable(pending, error)) {
          if (this.#backlog.length === 0) {
            this.options.logger.warn(
              { err: error },
              'report not confirmed by the broker; holding reports and retrying',
            );
          }
          this.#enqueue(pending);
        }
      },
    );
  }

  #enqueue(pending: Pending): void {
    if (pending.message.type === 'AgentHeartbeat')
      this.#dropWhere((held) => held.message.type === 'AgentHeartbeat');
    this.#backlog.push(pending);
    while (this.#backlog.length > this.#maxBuffered) {
      const oldest = this.#backlog.findIndex(isDroppable);
      if (oldest === -1) break;
      this.#dropAt(oldest);
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#backlog.shift(); next && !this.#closed; next = this.#backlog.shift()) {
        try {
          await this.options.sender.send(next.message);
          next.resolve();
          if (this.#failures > 0)
            this.options.logger.info({ held: this.#backlog.length }, 'broker confirms reports again');
          this.#failures = 0;
        } catch (error) {
          if (this.#closed) next.reject(error);
          else if (!this.#dropIfUnroutable(next, error)) {
            this.#backlog.unshift(next);
            this.#logFailure(error);
            await this.#pause();
          }
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #pause(): Promise<void> {
    const { min, max } = this.#retryDelayMs;
    const delay = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 16));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #dropIfUnroutable(pending: Pending, error: unknown): boolean {
    if (!(error instanceof UnroutableError) || !isDroppable(pending)) return false;
    this.options.logger.debug({ type: pending.message.type }, 'unroutable message dropped');
    pending.resolve();
    return true;
  }

  #dropWhere(predicate: (pending: Pending) => boolean): void {
    for (let index = this.#backlog.length - 1; index >= 0; index--) {
      const held = this.#backlog[index];
      if (held && predicate(held)) this.#dropAt(index);
    }
  }

  #dropAt(index: number): void {
    const [dropped] = this.#backlog.splice(index, 1);
    if (!dropped) return;
    this.options.logger.debug({ type: dropped.message.type }, 'held message dropped to bound memory');
    dropped.resolve();
  }

  #logFailure(error: unknown): void {
    this.#failures++;
    if (this.#failures % 20 === 1) {
      this.options.logger.warn(
        { err: error, held: this.#backlog.length, failures: this.#failures },
        'reports still not confirmed by the broker; retrying',
      );
    }
  }
}
