import type { Logger } from 'pino';

/** First wait after a transient failure; it doubles with each failure in a row. */
export const TRANSIENT_RETRY_MIN_MS = 100;
/** The longest wait between two tries while the database stays away. */
export const TRANSIENT_RETRY_MAX_MS = 5000;

/** The wait before try `attempt + 1` after `attempt` failures in a row: 100 ms, 200 ms, … 5 s. */
export function transientRetryDelayMs(
  attempt: number,
  minMs = TRANSIENT_RETRY_MIN_MS,
  maxMs = TRANSIENT_RETRY_MAX_MS,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.min(maxMs, minMs * 2 ** exponent);
}

/** Thrown by `TransientRetry.run` once `stop()` was called: the work was not done. */
export class RetryStoppedError extends Error {
  constructor() {
    super('stopped while waiting for the database');
    this.name = 'RetryStoppedError';
  }
}

export interface TransientRetryOptions {
  /** Which failures are the database's (retried) rather than the work's (thrown). */
  isTransient: (error: unknown) => boolean;
  logger: Logger;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs work again, after a bounded exponential wait, for as long as it fails transiently (the
 * database is away, a deadlock or serialization failure): what a consumer holds unacked is neither
 * requeued nor dead-lettered meanwhile, and the prefetch limit stops the flow of new deliveries.
 * Logs once when the first run starts waiting and once when the last one gets through.
 */
export class TransientRetry {
  private stopped = false;
  private waitingRuns = 0;
  private pausedSince: number | undefined;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  constructor(private readonly options: TransientRetryOptions) {}

  /** How many runs wait for the database now. */
  get waiting(): number {
    return this.waitingRuns;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    let failures = 0;
    try {
      for (;;) {
        if (this.stopped) throw new RetryStoppedError();
        try {
          return await work();
        } catch (error) {
          if (!this.options.isTransient(error)) throw error;
          if (this.stopped) throw new RetryStoppedError();
          failures += 1;
          if (failures === 1) this.startWaiting(error);
          const delayMs = transientRetryDelayMs(failures, this.options.minDelayMs, this.options.maxDelayMs);
          this.options.logger.debug({ err: error, failures, delayMs }, 'transient failure; trying again');
          await this.sleep(delayMs);
        }
      }
    } finally {
      if (failures > 0) this.stopWaiting();
    }
  }

  /** Ends every wait at once: waiting runs throw RetryStoppedError, new ones too. */
  stop(): void {
    this.stopped = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  private startWaiting(error: unknown): void {
    this.waitingRuns += 1;
    if (this.waitingRuns > 1) return;
    this.pausedSince = Date.now();
    this.options.logger.warn(
      { err: error },
      'database unavailable: holding the deliveries in hand and trying again until it answers',
    );
  }

  private stopWaiting(): void {
    this.waitingRuns -= 1;
    if (this.waitingRuns > 0 || this.stopped) return;
    const pausedMs = this.pausedSince === undefined ? undefined : Date.now() - this.pausedSince;
    this.pausedSince = undefined;
    this.options.logger.info({ pausedMs }, 'database answers again: consumption resumed');
  }
}
