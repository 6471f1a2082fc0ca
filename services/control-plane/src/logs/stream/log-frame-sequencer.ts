import type { LogGap, LogLineView, LogStreamFrame } from '@meridian/contracts/api/execution-log';

const MAX_KNOWN_GAPS = 1000;

export type LineFrame = Extract<LogStreamFrame, { type: 'line' }>;
export type GapFrame = Extract<LogStreamFrame, { type: 'gap' }>;

export interface SequencerLimits {
  /** Lines held beyond a hole (waiting for the lines before them), at most. */
  maxPendingLines: number;
  /** Bytes of text held beyond a hole, at most. */
  maxPendingBytes: number;
}

/**
 * Puts lines and gaps that arrive from two sources (the store's pages and live messages, in any
 * order, with repeats) into one gapless sequence for a client: each seq is given once, in order,
 * either as a line or inside a gap. `lastSeq` is the highest seq the client has been given.
 *
 * A hole that nobody has reported as a gap is waited for (the lines may still be on their way from
 * another replica); lines beyond it are held, within `limits`, and the rest dropped: the store has
 * them, and the caller reads them again once the hole is filled.
 */
export class LogFrameSequencer {
  private last: number;
  /** Lines with seq > last + 1, sorted by seq, unique. */
  private pending: LogLineView[] = [];
  private pendingBytes = 0;
  /** Reported holes not yet passed, sorted by afterSeq; `merged` once a second cause is added. */
  private gaps: Array<LogGap & { merged?: boolean }> = [];
  private highest: number;

  constructor(
    after: number,
    private readonly limits: SequencerLimits,
  ) {
    this.last = after;
    this.highest = after;
  }

  get lastSeq(): number {
    return this.last;
  }

  /** The highest seq seen from any source (sent or not), for "is anything newer known?". */
  get highestSeenSeq(): number {
    return this.highest;
  }

  /** Lines are held beyond a hole that is not reported as a gap: the sequence cannot go on yet. */
  get hasHole(): boolean {
    return this.pending.length > 0 && this.peek() === undefined;
  }

  /** The lowest seq held beyond the hole, if any. */
  get firstPendingSeq(): number | undefined {
    return this.pending[0]?.seq;
  }

  get pendingLineCount(): number {
    return this.pending.length;
  }

  /**
   * Takes lines and gaps in any order; ignores what the client already has. Returns how many lines
   * were dropped for lack of room (the caller should read them from the store later).
   */
  add(lines: readonly LogLineView[], gaps: readonly LogGap[] = []): number {
    for (const gap of gaps) this.addGap(gap);
    let dropped = 0;
    for (const line of lines) {
      this.highest = Math.max(this.highest, line.seq);
      if (!this.addLine(line)) dropped += 1;
    }
    return dropped;
  }

  /** The frame that continues the sequence, without taking it; undefined when it is not known yet. */
  peek(): LineFrame | GapFrame | undefined {
    this.pruneGaps();
    const first = this.pending[0];
    if (first && first.seq === this.last + 1) return { type: 'line', ...first };
    const gap = this.gaps[0];
    if (gap && gap.afterSeq <= this.last) {
      // A known line inside the reported hole wins over the report; the gap stops before it.
      const beforeSeq = first && first.seq < gap.beforeSeq ? first.seq : gap.beforeSeq;
      return { type: 'gap', afterSeq: this.last, beforeSeq, bytes: gap.bytes, reason: gap.reason };
    }
    return undefined;
  }

  /** Takes the frame `peek()` returns and moves past it. */
  take(): LineFrame | GapFrame | undefined {
    const frame = this.peek();
    if (!frame) return undefined;
    if (frame.type === 'line') {
      this.pending.shift();
      this.pendingBytes -= Buffer.byteLength(frame.text);
      this.last = frame.seq;
    } else {
      this.last = frame.beforeSeq - 1;
    }
    return frame;
  }

  /** Announces everything up to `beforeSeq` (exclusive) as missing and moves past it. */
  skipTo(beforeSeq: number, reason: LogGap['reason'], bytes: number): GapFrame | undefined {
    if (beforeSeq <= this.last + 1) return undefined;
    const frame: GapFrame = { type: 'gap', afterSeq: this.last, beforeSeq, bytes, reason };
    this.last = beforeSeq - 1;
    this.highest = Math.max(this.highest, this.last);
    this.dropPassedLines();
    return frame;
  }

  /** Forgets the lines held beyond a hole (the store has them); reported gaps are kept. */
  clearPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private addLine(line: LogLineView): boolean {
    if (line.seq <= this.last) return true;
    const index = this.insertionIndex(line.seq);
    if (this.pending[index]?.seq === line.seq) return true;
    const bytes = Buffer.byteLength(line.text);
    while (this.isFull(bytes)) {
      const tail = this.pending[this.pending.length - 1];
      // Keep the lowest seqs: they are needed first. A line above all held ones is the one dropped.
      if (!tail || tail.seq < line.seq) return false;
      this.pending.pop();
      this.pendingBytes -= Buffer.byteLength(tail.text);
    }
    this.pending.splice(index, 0, line);
    this.pendingBytes += bytes;
    return true;
  }

  private isFull(extraBytes: number): boolean {
    if (this.pending.length === 0) return false;
    return (
      this.pending.length + 1 > this.limits.maxPendingLines ||
      this.pendingBytes + extraBytes > this.limits.maxPendingBytes
    );
  }

  private addGap(gap: LogGap): void {
    if (gap.beforeSeq - 1 <= this.last || gap.beforeSeq <= gap.afterSeq + 1) return;
    this.highest = Math.max(this.highest, gap.beforeSeq - 1);
    const same = this.gaps.findIndex(
      (known) => known.afterSeq === gap.afterSeq && known.beforeSeq === gap.beforeSeq,
    );
    const known = this.gaps[same];
    if (known) {
      // One hole with two causes (truncated, and agent-dropped just before): one frame with all its bytes.
      if (known.reason !== gap.reason && !known.merged) {
        this.gaps[same] = { ...known, bytes: known.bytes + gap.bytes, merged: true };
      }
      return;
    }
    this.gaps.push(gap);
    this.gaps.sort((a, b) => a.afterSeq - b.afterSeq);
    // Far-off reports come again with the store's pages; keep the nearest ones.
    if (this.gaps.length > MAX_KNOWN_GAPS) this.gaps.length = MAX_KNOWN_GAPS;
  }

  private pruneGaps(): void {
    while (this.gaps[0] && this.gaps[0].beforeSeq - 1 <= this.last) this.gaps.shift();
  }

  private dropPassedLines(): void {
    while (this.pending[0] && this.pending[0].seq <= this.last) {
      const passed = this.pending.shift();
      if (passed) this.pendingBytes -= Buffer.byteLength(passed.text);
    }
  }

  /** Binary search: where a line with `seq` goes in `pending`. */
  private insertionIndex(seq: number): number {
    let low = 0;
    let high = this.pending.length;
    if (high > 0 && (this.pending[high - 1]?.seq ?? 0) < seq) return high;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.pending[middle]?.seq ?? 0) < seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
