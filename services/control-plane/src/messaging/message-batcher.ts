/**
 * Collects items handed over one at a time (one per broker delivery) and processes them together:
 * a batch closes when it is full or when the current turn of the event loop ends, so a burst of
 * deliveries costs one transaction while a lone message waits for nothing.
 */
export class MessageBatcher<TItem, TResult> {
  private pending: { item: TItem; resolve: (r: TResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly maxSize: number,
    private readonly processBatch: (items: TItem[]) => Promise<TResult[]>,
  ) {}

  add(item: TItem): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.pending.length);
    if (batch.length === 0) return;
    const run = this.processBatch(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Waits until every batch handed over so far is processed. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }
}
