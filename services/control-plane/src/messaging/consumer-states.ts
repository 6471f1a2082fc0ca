import type { Logger } from 'pino';

/** What rabbitmq-client's Consumer offers to tell whether it consumes. */
export interface ObservableConsumer {
  /** '' whenever the consumer is not subscribed: before its first setup, after a lost channel or
   * connection, after the server cancelled it (queue deleted), while it sets up again, once closed. */
  readonly consumerTag: string;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

export class NotConsumingError extends Error {
  override name = 'NotConsumingError';
}

interface Tracked {
  consumer: ObservableConsumer;
  /** Set by 'ready', cleared when the consumer is seen not consuming. */
  consuming: boolean;
  lastError: unknown;
}

/**
 * Whether each broker consumer of this process consumes, for `/readyz`. rabbitmq-client emits
 * 'ready' each time a consumer has subscribed (after every reconnect) but no event when it stops:
 * it then clears its `consumerTag` and sets up again with backoff, emitting 'error' for a failed
 * setup. So a consumer consumes when it has been ready and still has a consumer tag; transitions
 * are logged once.
 */
export class ConsumerStates {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly logger: Logger) {}

  track(name: string, consumer: ObservableConsumer): void {
    const entry: Tracked = { consumer, consuming: false, lastError: undefined };
    this.tracked.set(name, entry);
    consumer.on('ready', () => {
      if (!entry.consuming) this.logger.info({ consumer: name }, 'consumer consuming');
      entry.consuming = true;
    });
    consumer.on('error', (error) => {
      entry.lastError = error;
    });
  }

  isConsuming(name: string): boolean {
    const entry = this.tracked.get(name);
    if (!entry) return false;
    if (entry.consuming && entry.consumer.consumerTag === '') {
      entry.consuming = false;
      this.logger.warn({ consumer: name, err: entry.lastError }, 'consumer not consuming');
    }
    return entry.consuming;
  }

  /** The tracked consumers that do not consume now, by name. */
  notConsuming(): string[] {
    return [...this.tracked.keys()].filter((name) => !this.isConsuming(name));
  }

  /** One readiness check per consumer, named `consumer:<name>`. */
  readinessChecks(): Record<string, () => Promise<void>> {
    return Object.fromEntries(
      [...this.tracked.keys()].map((name) => [
        `consumer:${name}`,
        () =>
          this.isConsuming(name)
            ? Promise.resolve()
            : Promise.reject(new NotConsumingError(`the ${name} consumer is not consuming`)),
      ]),
    );
  }
}
