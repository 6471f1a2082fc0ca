import type { AsyncMessage, Connection, Consumer } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  LOG_LINES_STORED,
  LogLinesStoredSchema,
  type LogLinesStored,
} from '@meridian/contracts/messages/log-lines-stored';
import { EXCHANGE_TYPES, type Topology } from '@meridian/contracts/topology';

export type LiveLinesListener = (message: LogLinesStored) => void;

export interface LiveSubscription {
  /** Resolves true once the broker routes this execution's lines to this process, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  unsubscribe(): void;
}

export interface LiveLogSubscriptionsOptions {
  connection: Connection;
  topology: Topology;
  logger: Logger;
  /** Messages the broker may push before this process acks them. */
  prefetch?: number;
  /**
   * Messages the queue holds at most while this process is slow; the oldest are dropped beyond
   * that (the streams read what they missed from the store).
   */
  maxQueuedMessages?: number;
}

interface Watch {
  listeners: Set<LiveLinesListener>;
  /** Resolved when a binding to the current queue is in place. */
  waiters: Set<() => void>;
}

const LiveMessageSchema = z.object({ type: z.literal(LOG_LINES_STORED), payload: LogLinesStoredSchema });

/**
 * `LogLinesStored` from every replica, for the executions this process's WebSocket clients watch.
 *
 * One exclusive, auto-delete, server-named queue per process, bound to the live-logs exchange with
 * `liveLogKey(executionId)` while at least one local client watches that execution; lines are fanned
 * out in-process. After a broker reconnect the consumer declares a new queue (the old one went with
 * its channel) and every watched execution is bound again. Binding changes run one at a time, so
 * that a bind and an unbind of one key cannot overtake each other.
 */
export class LiveLogSubscriptions {
  private readonly watched = new Map<string, Watch>();
  /** Execution id → the queue it is bound to. */
  private readonly bound = new Map<string, string>();
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  private queue = '';
  private changes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LiveLogSubscriptionsOptions) {
    const { topology } = options;
    this.logger = options.logger.child({ component: 'live-logs' });
    const prefetch = options.prefetch ?? 200;
    this.consumer = options.connection.createConsumer(
      {
        queue: '',
        queueOptions: {
          exclusive: true,
          autoDelete: true,
          durable: false,
          arguments: {
            'x-queue-type': 'classic',
            'x-max-length': options.maxQueuedMessages ?? 10_000,
            'x-overflow': 'drop-head',
          },
        },
        qos: { prefetchCount: prefetch },
        concurrency: prefetch,
        requeue: false,
        exchanges: [{ exchange: topology.liveLogsExchange, type: EXCHANGE_TYPES.liveLogs, durable: true }],
      },
      (message) => {
        this.deliver(message);
        return ConsumerStatus.ACK;
      },
    );
    this.consumer.on('ready', () => this.onQueueReady());
    this.consumer.on('error', (error) => this.logger.warn({ err: error }, 'live logs consumer error'));
  }

  /** The consumer of this process's live-logs queue, for readiness. */
  get brokerConsumer(): Consumer {
    return this.consumer;
  }

  /** The current server-named queue ('' while (re)connecting). */
  get queueName(): string {
    return this.queue;
  }

  /** Executions with at least one local watcher. */
  get watchedExecutions(): number {
    return this.watched.size;
  }

  /** Calls `listener` with every `LogLinesStored` of the execution until `unsubscribe()`. */
  subscribe(executionId: string, listener: LiveLinesListener): LiveSubscription {
    let watch = this.watched.get(executionId);
    if (!watch) {
      watch = { listeners: new Set(), waiters: new Set() };
      this.watched.set(executionId, watch);
    }
    watch.listeners.add(listener);
    this.scheduleSync(executionId);
    const current = watch;
    return {
      ready: (timeoutMs) => this.whenBound(executionId, current, timeoutMs),
      unsubscribe: () => {
        current.listeners.delete(listener);
        if (current.listeners.size > 0 || this.watched.get(executionId) !== current) return;
        this.watched.delete(executionId);
        for (const resolve of current.waiters) resolve();
        this.scheduleSync(executionId);
      },
    };
  }

  /** Stops consuming; the broker deletes the queue and its bindings. */
  async close(): Promise<void> {
    this.closed = true;
    await this.changes;
    await this.consumer.close();
  }

  private whenBound(executionId: string, watch: Watch, timeoutMs: number): Promise<boolean> {
    const isBound = () => this.queue !== '' && this.bound.get(executionId) === this.queue;
    if (isBound()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        watch.waiters.delete(done);
        resolve(isBound());
      };
      const timer = setTimeout(done, timeoutMs);
      watch.waiters.add(done);
    });
  }

  private onQueueReady(): void {
    this.queue = this.consumer.queue;
    this.bound.clear(); // the bindings went with the old queue
    this.logger.debug({ queue: this.queue, watched: this.watched.size }, 'live logs queue ready');
    for (const executionId of this.watched.keys()) this.scheduleSync(executionId);
  }

  private scheduleSync(executionId: string): void {
    this.changes = this.changes.then(() => this.sync(executionId));
  }

  /** Makes the broker's binding of `executionId` match whether anyone here watches it. */
  private async sync(executionId: string): Promise<void> {
    const { topology, connection } = this.options;
    const queue = this.queue;
    const watch = this.watched.get(executionId);
    const boundTo = this.bound.get(executionId);
    const binding = {
      queue,
      exchange: topology.liveLogsExchange,
      routingKey: topology.liveLogKey(executionId),
    };
    try {
      if (watch && !this.closed) {
        if (queue === '' || boundTo === queue) return;
        await connection.queueBind(binding);
        // A reconnect during the call made a new queue: its 'ready' schedules this again.
        if (this.queue !== queue) return;
        this.bound.set(executionId, queue);
        for (const resolve of watch.waiters) resolve();
      } else if (boundTo !== undefined) {
        this.bound.delete(executionId);
        if (boundTo !== queue || this.closed) return; // gone with its queue, or soon will be
        await connection.queueUnbind(binding);
      }
    } catch (error) {
      // A failure here means the channel or connection is going; 'ready' binds everything again.
      this.logger.warn({ err: error, executionId }, 'could not change a live logs binding');
    }
  }

  private deliver(message: AsyncMessage): void {
    const parsed = LiveMessageSchema.safeParse(bodyOf(message));
    if (!parsed.success) {
      // Lost lines are read from the store by the streams' poll, so nothing else is needed here.
      this.logger.warn({ routingKey: message.routingKey, type: message.type }, 'live log message ignored');
      return;
    }
    const watch = this.watched.get(parsed.data.payload.executionId);
    if (!watch) return;
    for (const listener of watch.listeners) {
      try {
        listener(parsed.data.payload);
      } catch (error) {
        this.logger.error({ err: error }, 'live log listener failed');
      }
    }
  }
}

function bodyOf(message: AsyncMessage): unknown {
  const body: unknown = message.body;
  try {
    if (Buffer.isBuffer(body)) return JSON.parse(body.toString('utf8'));
    if (typeof body === 'string') return JSON.parse(body);
  } catch {
    return undefined;
  }
  return body;
}
