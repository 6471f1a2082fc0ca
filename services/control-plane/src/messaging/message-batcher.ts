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

/**
 * Wraps a batch processor so that a failed batch is processed again one item at a time: one bad
 * item cannot hold back the others. A lone item that fails still rejects (its delivery is requeued
 * or parked by the consumer).
 */
export function oneByOneOnFailure<TItem, TResult>(
  processBatch: (items: TItem[]) => Promise<TResult[]>,
  onSplit: (error: unknown, size: number) => void,
): (items: TItem[]) => Promise<TResult[]> {
  return async (items) => {
    try {
      return await processBatch(items);
    } catch (error) {
      if (items.length === 1) throw error;
      onSplit(error, items.length);
      const results: TResult[] = [];
      for (const item of items) results.push(...(await processBatch([item])));
      return results;
    }
  };
}
