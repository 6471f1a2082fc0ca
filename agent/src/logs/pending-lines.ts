import type { LogLine } from '@meridian/contracts/messages/log-chunk';

/**
 * What one line costs the agent's memory beyond its text: the line object, its seq, stream and
 * timestamp, and its JSON framing once sent. Counted so that a flood of empty lines is bounded too.
 */
export const LINE_OVERHEAD_BYTES = 100;

/** Lines read but not sent yet, oldest first, with their size; a queue that drops from the front. */
export class PendingLines {
  #lines: Array<LogLine | undefined> = [];
  #bytes: number[] = [];
  #ends: number[] = [];
  #head = 0;
  #cost = 0;

  get size(): number {
    return this.#lines.length - this.#head;
  }

  /** Text bytes plus LINE_OVERHEAD_BYTES per line. */
  get cost(): number {
    return this.#cost;
  }

  /** Text bytes of every line. */
  get textBytes(): number {
    return this.#cost - this.size * LINE_OVERHEAD_BYTES;
  }

  /** Text bytes of the oldest line (0 when empty). */
  get oldestBytes(): number {
    return this.#bytes[this.#head] ?? 0;
  }

  /** `end`: the position in its stream just after the line (see ExecutionLog positions). */
  push(line: LogLine, bytes: number, end = 0): void {
    this.#lines.push(line);
    this.#bytes.push(bytes);
    this.#ends.push(end);
    this.#cost += bytes + LINE_OVERHEAD_BYTES;
  }

  /** Removes the oldest line; returns it with its text bytes. */
  shift(): { line: LogLine; bytes: number; end: number } | undefined {
    const line = this.#lines[this.#head];
    if (line === undefined) return undefined;
    const bytes = this.#bytes[this.#head] ?? 0;
    const end = this.#ends[this.#head] ?? 0;
    this.#lines[this.#head] = undefined;
    this.#head++;
    this.#cost -= bytes + LINE_OVERHEAD_BYTES;
    if (this.#head === this.#lines.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#lines.length) this.#compact();
    return { line, bytes, end };
  }

  clear(): void {
    this.#lines = [];
    this.#bytes = [];
    this.#ends = [];
    this.#head = 0;
    this.#cost = 0;
  }

  #compact(): void {
    this.#lines = this.#lines.slice(this.#head);
    this.#bytes = this.#bytes.slice(this.#head);
    this.#ends = this.#ends.slice(this.#head);
    this.#head = 0;
  }
}
