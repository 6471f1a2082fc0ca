import type { Logger } from 'pino';

export interface WorkLoopOptions {
  name: string;
  /** Does one pass; returns how many items it handled. */
  pass: () => Promise<number>;
  /** A pass that handled this many items is followed at once by another. */
  batchSize: number;
  /** Safety-net polling when nobody wakes the loop. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Runs a pass whenever woken (NOTIFY, a local event) or when the interval elapses, one pass at a
 * time; wakes that arrive during a pass cause exactly one more pass. `stop()` waits for the
 * running pass, so that shutdown can flush.
 */
export class WorkLoop {
  private running: Promise<void> | null = null;
  private wakeRequested = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failures = 0;

  constructor(private readonly options: WorkLoopOptions) {}

  start(): void {
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    this.wakeRequested = true;
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  private async drain(): Promise<void> {
    while (this.wakeRequested && !this.stopped) {
      this.wakeRequested = false;
      try {
        const handled = await this.options.pass();
        this.failures = 0;
        if (handled >= this.options.batchSize) this.wakeRequested = true;
      } catch (error) {
        this.failures += 1;
        this.options.logger.error({ err: error, loop: this.options.name }, 'work loop pass failed');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** this.failures)));
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Runs one last pass (to flush) unless `flush` is false, then stops. */
  async stop(flush = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (flush) {
      try {
        await this.options.pass();
      } catch (error) {
        this.options.logger.warn({ err: error, loop: this.options.name }, 'final pass failed');
      }
    }
  }
}
