import { describe, expect, it } from 'vitest';
import { pageGaps, type PageGapsInput } from './log-gaps.js';

const line = (seq: number, droppedBeforeBytes = 0) => ({ seq, droppedBeforeBytes });
const truncated = (afterSeq: number, beforeSeq: number, bytes: number) =>
  ({ afterSeq, beforeSeq, bytes, reason: 'truncated' }) as const;
const dropped = (afterSeq: number, beforeSeq: number, bytes: number) =>
  ({ afterSeq, beforeSeq, bytes, reason: 'agent-dropped' }) as const;

/** Head 1–2 kept, 3–96 truncated (5000 bytes), tail 97–99 kept; seqs begin at 1. */
const hole = { afterSeq: 2, beforeSeq: 97, bytes: 5000 };

describe('pageGaps', () => {
  it.each<[string, number, PageGapsInput, ReturnType<typeof pageGaps>]>([
    ['no holes', 0, { lines: [line(1), line(2)], storedBefore: 0, hasMore: false, truncation: null }, []],
    [
      'the truncated middle, on the page that holds the first tail line',
      0,
      {
        lines: [1, 2, 97, 98, 99].map((s) => line(s)),
        storedBefore: 0,
        hasMore: false,
        truncation: hole,
      },
      [truncated(2, 97, 5000)],
    ],
    [
      'not on a page that ends before it',
      0,
      { lines: [line(1), line(2)], storedBefore: 0, hasMore: true, truncation: hole },
      [],
    ],
    [
      'on the next page, read from the last head line',
      2,
      { lines: [line(97), line(98)], storedBefore: 2, hasMore: true, truncation: hole },
      [truncated(2, 97, 5000)],
    ],
    [
      'not again once read past',
      97,
      { lines: [line(98), line(99)], storedBefore: 97, hasMore: false, truncation: hole },
      [],
    ],
    [
      'a truncation with no tail line kept yet, on the last page',
      1,
      {
        lines: [line(2)],
        storedBefore: 1,
        hasMore: false,
        truncation: { afterSeq: 2, beforeSeq: 50, bytes: 900 },
      },
      [truncated(2, 50, 900)],
    ],
    [
      'bytes the agent dropped, bounded by the stored line before (also from an earlier page)',
      4,
      { lines: [line(9, 300), line(10), line(15, 20)], storedBefore: 4, hasMore: false, truncation: null },
      [dropped(4, 9, 300), dropped(10, 15, 20)],
    ],
    [
      'a hole both truncated and after agent-dropped bytes: one gap per reason',
      2,
      { lines: [line(97, 64)], storedBefore: 2, hasMore: false, truncation: hole },
      [truncated(2, 97, 5000), dropped(2, 97, 64)],
    ],
  ])('%s', (_name, after, input, expected) => {
    expect(pageGaps(after, input)).toEqual(expected);
  });
});
