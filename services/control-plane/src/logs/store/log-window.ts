import type { LogGap } from '@meridian/contracts/api/execution-log';
import type { LogStreamName } from '@meridian/contracts/messages/log-chunk';

/**
 * What `execution_logs` holds about one execution's log. The head (the first half of the budget)
 * is kept for good; the tail keeps the newest lines that fit the other half, by seq.
 */
export interface LogSummary {
  headBytes: number;
  /** Highest seq in the head; -1 while it is empty. */
  headLastSeq: number;
  /** Set once a line did not fit the head: every later line goes to the tail. */
  headClosed: boolean;
  /** Bytes of every line that went to the tail, kept or dropped since. */
  tailTotalBytes: number;
  /** Bytes of tail lines dropped to keep the tail within its budget. */
  truncatedBytes: number;
  /** Highest seq the tail has dropped; -1 when none. */
  truncatedThroughSeq: number;
  /** Bytes the agent reported it dropped (LogChunk.droppedBytes). */
  agentDroppedBytes: number;
  /** Highest seq received; -1 when none. */
  lastSeq: number;
}

export const EMPTY_LOG_SUMMARY: LogSummary = {
  headBytes: 0,
  headLastSeq: -1,
  headClosed: false,
  tailTotalBytes: 0,
  truncatedBytes: 0,
  truncatedThroughSeq: -1,
  agentDroppedBytes: 0,
  lastSeq: -1,
};

export interface IncomingLine {
  seq: number;
  stream: LogStreamName;
  ts: string;
  text: string;
  /** What the line counts against the budget: its UTF-8 bytes plus one for its line ending. */
  bytes: number;
  /** Bytes the agent dropped just before this line (its chunk's droppedBytes, on the first line). */
  droppedBeforeBytes: number;
}

export interface PlacedLine extends IncomingLine {
  inHead: boolean;
  /** For a tail line: bytes of all tail lines received up to and including this one. */
  tailOffsetEnd: number | null;
}

export interface LogBudget {
  headBytes: number;
  tailBytes: number;
}

/** EXECUTION_LOG_MAX_BYTES split in two: the head gets the first half, the tail the rest. */
export function logBudget(maxBytes: number): LogBudget {
  const headBytes = Math.floor(maxBytes / 2);
  return { headBytes, tailBytes: maxBytes - headBytes };
}

export function lineBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8') + 1;
}

/**
 * Seqs of `lines` that may be stored already, so the store must look them up: those above what the
 * tail has dropped and not above the highest seq received. Anything higher is new for sure.
 */
export function seqsToLookUp(summary: LogSummary, lines: readonly IncomingLine[]): number[] {
  return lines
    .map((line) => line.seq)
    .filter((seq) => seq > summary.truncatedThroughSeq && seq <= summary.lastSeq);
}

export interface LogWritePlan {
  /** The summary after this batch, before the store trims lines it already had. */
  summary: LogSummary;
  /** Every line received for the first time, in seq order: what live viewers are sent. */
  accepted: IncomingLine[];
  /** The accepted lines to insert; tail lines that newer lines of the batch push out at once are not. */
  stored: PlacedLine[];
  /** Holes the agent reported (lines it dropped), in seq order. */
  agentGaps: LogGap[];
  /**
   * Lines stored before may now be out of the window (the tail is over its budget, or this batch
   * dropped a line newer than them): the store drops its oldest tail lines, those at or below
   * `summary.truncatedThroughSeq` and those past the budget counted from the newest.
   */
  trimTail: boolean;
}

/**
 * Decides what one batch of an execution's lines does to its log: which lines are new (a line
 * already stored, or at or below the highest seq the tail dropped, was seen before: redelivery),
 * which go to the head, which to the tail, and which the tail drops at once.
 *
 * `alreadyStored` holds the seqs among `seqsToLookUp(summary, lines)` that the store has.
 */
export function planLogWrites(
  summary: LogSummary,
  lines: readonly IncomingLine[],
  alreadyStored: ReadonlySet<number>,
  budget: LogBudget,
): LogWritePlan {
  const accepted = acceptNewLines(summary, lines, alreadyStored);
  const next: LogSummary = { ...summary };
  const head: PlacedLine[] = [];
  const tail: IncomingLine[] = [];
  for (const line of accepted) {
    if (!next.headClosed && next.headBytes + line.bytes <= budget.headBytes) {
      head.push({ ...line, inHead: true, tailOffsetEnd: null });
      next.headBytes += line.bytes;
      next.headLastSeq = Math.max(next.headLastSeq, line.seq);
    } else {
      next.headClosed = true;
      tail.push(line);
    }
  }

  // The tail keeps the newest lines whose bytes fit; a line that newer lines of this batch already
  // push out is counted as dropped without being written.
  const kept = new Set<number>();
  let newerBytes = 0;
  for (let i = tail.length - 1; i >= 0; i -= 1) {
    const line = tail[i]!;
    newerBytes += line.bytes;
    if (newerBytes <= budget.tailBytes) kept.add(line.seq);
  }
  const storedBefore = summary.tailTotalBytes - summary.truncatedBytes;
  let storedTailBytes = storedBefore;
  const placedTail: PlacedLine[] = [];
  for (const line of tail) {
    next.tailTotalBytes += line.bytes;
    if (kept.has(line.seq)) {
      placedTail.push({ ...line, inHead: false, tailOffsetEnd: next.tailTotalBytes });
      storedTailBytes += line.bytes;
    } else {
      next.truncatedBytes += line.bytes;
      next.truncatedThroughSeq = Math.max(next.truncatedThroughSeq, line.seq);
    }
  }

  for (const line of accepted) {
    next.agentDroppedBytes += line.droppedBeforeBytes;
    next.lastSeq = Math.max(next.lastSeq, line.seq);
  }

  return {
    summary: next,
    accepted,
    stored: [...head, ...placedTail].sort((a, b) => a.seq - b.seq),
    agentGaps: agentGaps(summary, accepted),
    trimTail:
      storedBefore > 0 &&
      (storedTailBytes > budget.tailBytes || next.truncatedThroughSeq > summary.truncatedThroughSeq),
  };
}

function acceptNewLines(
  summary: LogSummary,
  lines: readonly IncomingLine[],
  alreadyStored: ReadonlySet<number>,
): IncomingLine[] {
  const bySeq = new Map<number, IncomingLine>();
  for (const line of lines) {
    if (bySeq.has(line.seq)) continue;
    if (line.seq <= summary.truncatedThroughSeq) continue;
    if (line.seq <= summary.lastSeq && alreadyStored.has(line.seq)) continue;
    bySeq.set(line.seq, line);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** A line after dropped ones: the hole runs from the highest seq known below it (0: the start; seqs begin at 1). */
function agentGaps(summary: LogSummary, accepted: readonly IncomingLine[]): LogGap[] {
  const gaps: LogGap[] = [];
  let previous = 0;
  for (const line of accepted) {
    if (line.droppedBeforeBytes > 0) {
      const below = summary.lastSeq < line.seq ? Math.max(previous, summary.lastSeq) : previous;
      gaps.push({
        afterSeq: below,
        beforeSeq: line.seq,
        bytes: line.droppedBeforeBytes,
        reason: 'agent-dropped',
      });
    }
    previous = line.seq;
  }
  return gaps;
}
