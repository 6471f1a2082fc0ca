/**
 * Remembers values by id for a while, in bounded memory: an entry is forgotten after `ttlMs`, and
 * the oldest entries go first once more than `maxSize` are held. The clock is an argument for tests.
 */
export class ExpiringMap<T> {
  // A Map keeps insertion order and setting again moves a key to the end, so the front is the oldest.
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSize: number,
    private readonly now: () => number = Date.now,
  ) {}

  set(id: string, value: T): void {
    this.#entries.delete(id);
    this.#entries.set(id, { value, expiresAt: this.now() + this.ttlMs });
    this.#prune();
  }

  get(id: string): T | undefined {
    this.#prune();
    return this.#entries.get(id)?.value;
  }

  has(id: string): boolean {
    this.#prune();
    return this.#entries.has(id);
  }

  /** Returns the value and forgets it. */
  take(id: string): T | undefined {
    const value = this.get(id);
    this.#entries.delete(id);
    return value;
  }

  get size(): number {
    this.#prune();
    return this.#entries.size;
  }

  #prune(): void {
    const now = this.now();
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size <= this.maxSize) return;
      this.#entries.delete(id);
    }
  }
}
