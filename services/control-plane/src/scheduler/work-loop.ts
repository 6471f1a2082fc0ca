import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

export interface WorkLoopOptions {
  name: string;
  /** Does one pass; returns how many items it handled. */
  pass: () => Promise<number>;
  /** A pass that handled this many items is followed at once by another. */
  batchSize: number;
  /** Safety-net polling when nobody wakes the loop. */
  intervalMs: number;
  /**
   * Passes allowed to run at once (default 1). More than one only for passes that claim their
   * work with SKIP LOCKED, so that a pass waiting on I/O (publisher confirms) does not hold up
   * the work that arrived meanwhile.
   */
  concurrency?: number;
  logger: Logger;
}

/**
 * Runs a pass whenever woken (NOTIFY, a local event) or when the interval elapses. Wakes that
 * arrive while passes run cause one more pass, not one each. `stop()` waits for the running
 * passes, so that shutdown can flush.
 */
export class WorkLoop {
  private readonly running = new Set<Promise<void>>();
  private wakeRequested = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failures = 0;
  /** When the oldest wake not yet served arrived, for the debug log of each pass. */
  private wokenAt: number | null = null;

  constructor(private readonly options: WorkLoopOptions) {}

  start(): void {
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    this.wakeRequested = true;
    this.wokenAt ??= performance.now();
    this.startPasses();
  }

  private startPasses(): void {
    const concurrency = this.options.concurrency ?? 1;
    while (this.wakeRequested && !this.stopped && this.running.size < concurrency) {
      this.wakeRequested = false;
      const run = this.runPass().finally(() => {
        this.running.delete(run);
        this.startPasses();
        if (this.running.size === 0) this.schedule();
      });
      this.running.add(run);
    }
  }

  private async runPass(): Promise<void> {
    const started = performance.now();
    const waitedMs = this.wokenAt === null ? 0 : started - this.wokenAt;
    this.wokenAt = null;
    try {
      const handled = await this.options.pass();
      this.failures = 0;
      if (handled >= this.options.batchSize) this.wakeRequested = true;
      if (handled > 0) {
        const tookMs = performance.now() - started;
        this.options.logger.debug({ loop: this.options.name, handled, waitedMs, tookMs }, 'work loop pass');
      }
    } catch (error) {
      this.failures += 1;
      this.options.logger.error({ err: error, loop: this.options.name }, 'work loop pass failed');
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** this.failures)));
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Waits for the running passes, then runs one last pass (to flush) unless `flush` is false. */
  async stop(flush = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.running]);
    if (!flush) return;
    try {
      await this.options.pass();
    } catch (error) {
      this.options.logger.warn({ err: error, loop: this.options.name }, 'final pass failed');
    }
  }
}
