import { describe, expect, it } from 'vitest';
import {
  EMPTY_LOG_SUMMARY,
  lineBytes,
  logBudget,
  planLogWrites,
  seqsToLookUp,
  type IncomingLine,
  type LogSummary,
} from './log-window.js';

/** Head 10 bytes, tail 10 bytes: small enough to reason about line by line. */
const budget = logBudget(20);

/** `seq:bytes`, and `seq:bytes!dropped` for a line after bytes the agent dropped. */
function lines(spec: string): IncomingLine[] {
  return spec
    .split(' ')
    .filter(Boolean)
    .map((token) => {
      const [seqBytes, dropped] = token.split('!');
      const [seq, bytes] = seqBytes!.split(':').map(Number);
      return {
        seq: seq!,
        stream: 'stdout',
        ts: '2026-06-01T12:00:00.000Z',
        text: 'x'.repeat(bytes! - 1),
        bytes: bytes!,
        droppedBeforeBytes: Number(dropped ?? 0),
      };
    });
}

const summary = (fields: Partial<LogSummary>): LogSummary => ({ ...EMPTY_LOG_SUMMARY, ...fields });

describe('logBudget', () => {
  it.each([
    [65_536, 32_768, 32_768],
    [1025, 512, 513],
    [20, 10, 10],
  ])('splits %i into head %i and tail %i', (max, head, tail) => {
    expect(logBudget(max)).toEqual({ headBytes: head, tailBytes: tail });
  });
});

describe('lineBytes', () => {
  it.each([
    ['', 1],
    ['hello', 6],
    ['é', 3],
    ['😀', 5],
  ])('counts %j as %i bytes (UTF-8 plus the line ending)', (text, bytes) => {
    expect(lineBytes(text)).toBe(bytes);
  });
});

describe('planLogWrites: head and tail', () => {
  it.each([
    {
      name: 'lines that fit go to the head',
      before: summary({}),
      batch: '0:3 1:3 2:4',
      head: [0, 1, 2],
      tail: [],
      after: { headBytes: 10, headLastSeq: 2, headClosed: false, lastSeq: 2 },
      trimTail: false,
    },
    {
      name: 'the first line that does not fit closes the head, and a smaller one after it goes to the tail',
      before: summary({}),
      batch: '0:6 1:5 2:1',
      head: [0],
      tail: [1, 2],
      after: { headBytes: 6, headLastSeq: 0, headClosed: true, tailTotalBytes: 6, lastSeq: 2 },
      trimTail: false,
    },
    {
      name: 'a closed head takes nothing more',
      before: summary({ headBytes: 2, headLastSeq: 0, headClosed: true, tailTotalBytes: 9, lastSeq: 1 }),
      batch: '2:1',
      head: [],
      tail: [2],
      after: { headBytes: 2, tailTotalBytes: 10, lastSeq: 2 },
      trimTail: false,
    },
    {
      name: 'tail lines pushed out by newer lines of the same batch are dropped without being written',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, lastSeq: 1 }),
      batch: '2:4 3:4 4:4 5:2 6:1',
      head: [],
      tail: [4, 5, 6],
      after: {
        tailTotalBytes: 15,
        truncatedBytes: 8,
        truncatedThroughSeq: 3,
        lastSeq: 6,
      },
      trimTail: false,
    },
    {
      name: 'the window is contiguous: a big line pushes out every older line, even small ones',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, lastSeq: 1 }),
      batch: '2:1 3:8 4:2',
      head: [],
      tail: [3, 4],
      after: { tailTotalBytes: 11, truncatedBytes: 1, truncatedThroughSeq: 2, lastSeq: 4 },
      trimTail: false,
    },
    {
      name: 'a line longer than the whole tail is dropped at once',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, lastSeq: 1 }),
      batch: '2:11',
      head: [],
      tail: [],
      after: { tailTotalBytes: 11, truncatedBytes: 11, truncatedThroughSeq: 2, lastSeq: 2 },
      trimTail: false,
    },
    {
      name: 'new lines on top of stored tail lines beyond the budget: the store trims its oldest',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, tailTotalBytes: 8, lastSeq: 4 }),
      batch: '5:3',
      head: [],
      tail: [5],
      after: { tailTotalBytes: 11, lastSeq: 5 },
      trimTail: true,
    },
    {
      name: 'a batch that drops lines at once also pushes out the stored tail below them',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, tailTotalBytes: 2, lastSeq: 2 }),
      batch: '3:6 4:6',
      head: [],
      tail: [4],
      after: { tailTotalBytes: 14, truncatedBytes: 6, truncatedThroughSeq: 3, lastSeq: 4 },
      trimTail: true,
    },
    {
      name: 'filling the tail exactly needs no trim',
      before: summary({ headBytes: 10, headLastSeq: 1, headClosed: true, tailTotalBytes: 8, lastSeq: 4 }),
      batch: '5:2',
      head: [],
      tail: [5],
      after: { tailTotalBytes: 10, lastSeq: 5 },
      trimTail: false,
    },
    {
      name: 'after truncation, stored tail bytes are the total less what was dropped',
      before: summary({
        headBytes: 10,
        headLastSeq: 1,
        headClosed: true,
        tailTotalBytes: 50,
        truncatedBytes: 45,
        truncatedThroughSeq: 20,
        lastSeq: 22,
      }),
      batch: '23:5',
      head: [],
      tail: [23],
      after: { tailTotalBytes: 55, truncatedBytes: 45, lastSeq: 23 },
      trimTail: false,
    },
  ])('$name', ({ before, batch, head, tail, after, trimTail }) => {
    const plan = planLogWrites(before, lines(batch), new Set(), budget);
    expect(plan.stored.filter((l) => l.inHead).map((l) => l.seq)).toEqual(head);
    expect(plan.stored.filter((l) => !l.inHead).map((l) => l.seq)).toEqual(tail);
    expect(plan.summary).toEqual({ ...before, ...after });
    expect(plan.trimTail).toBe(trimTail);
  });

  it('numbers tail lines by the bytes of every tail line received, dropped ones included', () => {
    const before = summary({
      headBytes: 10,
      headLastSeq: 1,
      headClosed: true,
      tailTotalBytes: 100,
      truncatedBytes: 100,
    });
    const plan = planLogWrites(before, lines('2:6 3:3 4:4'), new Set(), budget);
    expect(plan.stored.map((l) => [l.seq, l.tailOffsetEnd])).toEqual([
      [3, 109],
      [4, 113],
    ]);
  });
});

describe('planLogWrites: lines seen before', () => {
  const before = summary({
    headBytes: 10,
    headLastSeq: 2,
    headClosed: true,
    tailTotalBytes: 30,
    truncatedBytes: 20,
    truncatedThroughSeq: 6,
    lastSeq: 9,
  });

  it.each([
    ['a stored head line', '1:4', [1], []],
    ['a line the tail dropped', '5:4', [], []],
    ['a stored tail line', '8:1', [8], []],
    ['a line above the highest seq received', '10:1', [], [10]],
    ['a line that is missing between stored ones (late, from another replica)', '7:1', [], [7]],
    ['the same line twice in one batch', '10:1 10:1', [], [10]],
  ])('%s: %s', (_name, batch, stored, accepted) => {
    const plan = planLogWrites(before, lines(batch), new Set(stored), budget);
    expect(plan.accepted.map((l) => l.seq)).toEqual(accepted);
  });

  it('a batch of lines seen before changes nothing', () => {
    const plan = planLogWrites(before, lines('1:4 5:4 8:1'), new Set([1, 8]), budget);
    expect(plan).toEqual({ summary: before, accepted: [], stored: [], agentGaps: [], trimTail: false });
  });

  it('looks up only the seqs that may be stored: above what the tail dropped, up to the highest received', () => {
    expect(seqsToLookUp(before, lines('1:1 5:1 6:1 7:1 9:1 10:1 11:1'))).toEqual([7, 9]);
    expect(seqsToLookUp(EMPTY_LOG_SUMMARY, lines('0:1 1:1'))).toEqual([]);
  });
});

describe('planLogWrites: bytes the agent dropped', () => {
  it.each([
    {
      name: 'right after the stored lines',
      before: summary({ headBytes: 3, headLastSeq: 2, lastSeq: 2 }),
      batch: '6:1!500 7:1',
      gaps: [{ afterSeq: 2, beforeSeq: 6, bytes: 500, reason: 'agent-dropped' }],
      dropped: 500,
    },
    {
      name: 'inside the batch',
      before: summary({}),
      batch: '0:1 1:1 4:1!40',
      gaps: [{ afterSeq: 1, beforeSeq: 4, bytes: 40, reason: 'agent-dropped' }],
      dropped: 40,
    },
    {
      name: 'before the very first line (seqs begin at 1)',
      before: summary({}),
      batch: '3:1!9',
      gaps: [{ afterSeq: 0, beforeSeq: 3, bytes: 9, reason: 'agent-dropped' }],
      dropped: 9,
    },
  ])('$name', ({ before, batch, gaps, dropped }) => {
    const plan = planLogWrites(before, lines(batch), new Set(), budget);
    expect(plan.agentGaps).toEqual(gaps);
    expect(plan.summary.agentDroppedBytes).toBe(before.agentDroppedBytes + dropped);
    const first = plan.stored.find((l) => l.seq === gaps[0]!.beforeSeq);
    expect(first?.droppedBeforeBytes).toBe(dropped);
  });

  it('counts dropped bytes even when the line after them is pushed out of the tail at once', () => {
    const before = summary({ headBytes: 10, headLastSeq: 1, headClosed: true, lastSeq: 1 });
    const plan = planLogWrites(before, lines('4:6!70 5:6'), new Set(), budget);
    expect(plan.stored.map((l) => l.seq)).toEqual([5]);
    expect(plan.accepted.map((l) => l.seq)).toEqual([4, 5]);
    expect(plan.summary).toMatchObject({ agentDroppedBytes: 70, truncatedBytes: 6, truncatedThroughSeq: 4 });
  });
});

describe('planLogWrites with the store’s trim, over a long run', () => {
  /** The store as the SQL keeps it: lines by seq, and the trim of the oldest tail lines. */
  function simulate(batches: IncomingLine[][], maxBytes: number) {
    const limits = logBudget(maxBytes);
    let state = EMPTY_LOG_SUMMARY;
    const store = new Map<number, { bytes: number; inHead: boolean }>();
    for (const batch of batches) {
      const plan = planLogWrites(
        state,
        batch,
        new Set(seqsToLookUp(state, batch).filter((s) => store.has(s))),
        limits,
      );
      for (const line of plan.stored) store.set(line.seq, { bytes: line.bytes, inHead: line.inHead });
      state = plan.summary;
      if (plan.trimTail) {
        const tail = [...store].filter(([, l]) => !l.inHead).sort(([a], [b]) => b - a);
        let fromNewest = 0;
        for (const [seq, line] of tail) {
          fromNewest += line.bytes;
          if (fromNewest > limits.tailBytes || seq <= state.truncatedThroughSeq) {
            store.delete(seq);
            state = {
              ...state,
              truncatedBytes: state.truncatedBytes + line.bytes,
              truncatedThroughSeq: Math.max(state.truncatedThroughSeq, seq),
            };
          }
        }
      }
    }
    return { state, store };
  }

  const sizes = (count: number, seed: number) =>
    Array.from({ length: count }, (_, i) => 1 + ((i * 7919 + seed) % 97));

  it.each([1, 7, 50])(
    'keeps at most the budget, head first, and accounts for every byte (batches of %i)',
    (size) => {
      const all = lines(
        sizes(2000, size)
          .map((bytes, seq) => `${seq}:${bytes}`)
          .join(' '),
      );
      const batches = Array.from({ length: Math.ceil(all.length / size) }, (_, i) =>
        all.slice(i * size, (i + 1) * size),
      );
      const { state, store } = simulate(batches, 1024);
      const keptBytes = [...store.values()].reduce((sum, l) => sum + l.bytes, 0);
      const totalBytes = all.reduce((sum, l) => sum + l.bytes, 0);
      expect(keptBytes).toBeLessThanOrEqual(1024);
      expect(keptBytes + state.truncatedBytes).toBe(totalBytes);
      expect(state.headBytes + state.tailTotalBytes).toBe(totalBytes);
      const seqs = [...store.keys()].sort((a, b) => a - b);
      const head = seqs.filter((s) => store.get(s)!.inHead);
      const tail = seqs.filter((s) => !store.get(s)!.inHead);
      expect(head).toEqual(Array.from({ length: head.length }, (_, i) => i));
      expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 1999 - tail.length + 1 + i));
      expect(state.truncatedThroughSeq).toBe(tail[0]! - 1);
      // A redelivery of any batch changes nothing.
      const again = simulate([...batches, batches[3]!, batches[batches.length - 1]!], 1024);
      expect(again.state).toEqual(state);
    },
  );

  it('stores a late batch (another replica was slower) when it is newer than what the tail dropped', () => {
    const all = lines('0:5 1:5 2:4 3:4 4:1 5:1 6:1');
    const inOrder = simulate([all.slice(0, 2), all.slice(2, 4), all.slice(4)], 20);
    const late = simulate([all.slice(0, 2), all.slice(4), all.slice(2, 4)], 20);
    expect([...late.store.keys()].sort()).toEqual([...inOrder.store.keys()].sort());
    expect(late.state.truncatedBytes).toBe(inOrder.state.truncatedBytes);
  });
});
