import { RetryStoppedError, type TransientRetry } from './transient-retry.js';

/**
 * Collects items handed over one at a time (one per broker delivery) and processes them together.
 * A batch closes when it is full or at the end of the current turn of the event loop; at most
 * `maxInFlight` batches run at once, and what arrives meanwhile waits for the next. So a lone
 * message waits for nothing, while under load each transaction carries many messages.
 */
export class MessageBatcher<TItem, TResult> {
  private pending: { item: TItem; resolve: (r: TResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly maxSize: number,
    private readonly processBatch: (items: TItem[]) => Promise<TResult[]>,
    private readonly maxInFlight = 2,
  ) {}

  add(item: TItem): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight.size < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxSize);
      const run = this.processBatch(batch.map((entry) => entry.item)).then(
        (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      );
      this.inFlight.add(run);
      void run.finally(() => {
        this.inFlight.delete(run);
        this.flush();
      });
    }
  }

  /** Waits until every item handed over so far is processed. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0 || this.pending.length > 0) {
      await Promise.all([...this.inFlight]);
      this.flush();
    }
  }
}

/** The outcome of one item of a batch: its result, or the error it fails with on its own. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface IsolationOptions<TItem, TResult> {
  /** Items with the same key (a message id) are processed once; the copies share the result. */
  keyOf: (item: TItem) => string;
  /** The result a copy gets. */
  asDuplicate: (result: TResult) => TResult;
  /** Runs the work again while it fails transiently (the database is away). */
  retry: TransientRetry;
  onSplit: (error: unknown, size: number) => void;
}

/**
 * Wraps a batch processor so that one bad item cannot hold back the others, and a database that
 * is away fails nothing:
 * - copies of one item (same key) in a batch are processed once;
 * - a transient failure (database unreachable, deadlock…) is retried, batch or item, until the
 *   database answers; it never becomes a result;
 * - a batch that fails otherwise is processed again one item at a time, and an item that still
 *   fails on its own settles with its error (for the caller to dead-letter) while the others apply.
 * Rejects only with RetryStoppedError, when the retry is stopped (shutdown) before the work is done.
 */
export function isolateFailures<TItem, TResult>(
  processBatch: (items: TItem[]) => Promise<TResult[]>,
  options: IsolationOptions<TItem, TResult>,
): (items: TItem[]) => Promise<Settled<TResult>[]> {
  const settle = async (unique: TItem[]): Promise<Settled<TResult>[]> => {
    try {
      const results = await options.retry.run(() => processBatch(unique));
      return results.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (error instanceof RetryStoppedError) throw error;
      if (unique.length === 1) return [{ ok: false, error }];
      options.onSplit(error, unique.length);
    }
    const settled: Settled<TResult>[] = [];
    for (const item of unique) {
      try {
        const [value] = await options.retry.run(() => processBatch([item]));
        settled.push({ ok: true, value: value! });
      } catch (error) {
        if (error instanceof RetryStoppedError) throw error;
        settled.push({ ok: false, error });
      }
    }
    return settled;
  };

  return async (items) => {
    const indexOfKey = new Map<string, number>();
    const unique: TItem[] = [];
    const slots = items.map((item) => {
      const key = options.keyOf(item);
      const seen = indexOfKey.get(key);
      if (seen !== undefined) return { index: seen, duplicate: true };
      indexOfKey.set(key, unique.length);
      unique.push(item);
      return { index: unique.length - 1, duplicate: false };
    });
    const settled = await settle(unique);
    return slots.map(({ index, duplicate }) => {
      const outcome = settled[index]!;
      return duplicate && outcome.ok ? { ok: true, value: options.asDuplicate(outcome.value) } : outcome;
    });
  };
}

/**
 * Hands a delivery's item to the batcher and waits for its outcome; `undefined` when shutdown
 * stopped the retry of an absent database first (the caller requeues it for another replica).
 */
export async function settleUnlessStopped<TItem, TResult>(
  batcher: MessageBatcher<TItem, Settled<TResult>>,
  item: TItem,
): Promise<Settled<TResult> | undefined> {
  try {
    return await batcher.add(item);
  } catch (error) {
    if (error instanceof RetryStoppedError) return undefined;
    throw error;
  }
}
