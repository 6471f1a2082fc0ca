import type { LogGap } from '@meridian/contracts/api/execution-log';

export interface PageLine {
  seq: number;
  droppedBeforeBytes: number;
}

/** Where the tail's dropped lines sit: between the last line kept below them and the first above. */
export interface TruncationHole {
  /** Highest stored seq at or below the highest seq the tail dropped; 0 when none (seqs begin at 1). */
  afterSeq: number;
  /** Lowest stored seq above it; when none is stored yet, one past the highest dropped seq. */
  beforeSeq: number;
  bytes: number;
}

export interface PageGapsInput {
  /** The page's lines, in seq order. */
  lines: readonly PageLine[];
  /** Highest stored seq at or below the page's `after`; 0 when none. */
  storedBefore: number;
  /** Whether lines are stored past the page (the client reads on). */
  hasMore: boolean;
  truncation: TruncationHole | null;
}

/**
 * The holes of one page, in seq order. A hole is reported on the page that holds the line right
 * after it, so a client reading on with `nextAfter` sees each hole once; a truncation with no kept
 * line after it yet is reported on the last page. A hole that is both truncated and preceded by
 * agent-dropped bytes gives two gaps with the same bounds, one per reason.
 */
export function pageGaps(after: number, input: PageGapsInput): LogGap[] {
  const gaps: LogGap[] = [];
  const lastSeq = input.lines.at(-1)?.seq;
  const hole = input.truncation;
  if (hole && hole.bytes > 0 && hole.beforeSeq > after) {
    const onThisPage = input.hasMore ? lastSeq !== undefined && hole.beforeSeq <= lastSeq : true;
    if (onThisPage) {
      gaps.push({
        afterSeq: hole.afterSeq,
        beforeSeq: hole.beforeSeq,
        bytes: hole.bytes,
        reason: 'truncated',
      });
    }
  }
  let previous = input.storedBefore;
  for (const line of input.lines) {
    if (line.droppedBeforeBytes > 0) {
      gaps.push({
        afterSeq: previous,
        beforeSeq: line.seq,
        bytes: line.droppedBeforeBytes,
        reason: 'agent-dropped',
      });
    }
    previous = line.seq;
  }
  return gaps.sort((a, b) => a.afterSeq - b.afterSeq || a.beforeSeq - b.beforeSeq);
}
