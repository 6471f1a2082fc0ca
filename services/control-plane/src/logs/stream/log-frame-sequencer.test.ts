import { describe, expect, it } from 'vitest';
import type { LogGap, LogLineView } from '@meridian/contracts/api/execution-log';
import { LogFrameSequencer, type GapFrame, type LineFrame } from './log-frame-sequencer.js';

const roomy = { maxPendingLines: 1000, maxPendingBytes: 1 << 20 };

function line(seq: number, text = `line ${seq}`): LogLineView {
  return { seq, stream: seq % 2 === 0 ? 'stderr' : 'stdout', ts: '2026-06-01T12:00:00.000Z', text };
}
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));
const gap = (afterSeq: number, beforeSeq: number, bytes = 100, reason: LogGap['reason'] = 'truncated') => ({
  afterSeq,
  beforeSeq,
  bytes,
  reason,
});

function drain(sequencer: LogFrameSequencer): Array<LineFrame | GapFrame> {
  const frames: Array<LineFrame | GapFrame> = [];
  for (let frame = sequencer.take(); frame; frame = sequencer.take()) frames.push(frame);
  return frames;
}
const describeFrames = (frames: Array<LineFrame | GapFrame>) =>
  frames.map((f) => (f.type === 'line' ? f.seq : `gap ${f.afterSeq}..${f.beforeSeq} ${f.reason}`));

describe('LogFrameSequencer', () => {
  it('gives lines in seq order from after+1, whatever the order they arrive in', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    sequencer.add([line(3), line(1)]);
    sequencer.add([line(2)]);
    expect(describeFrames(drain(sequencer))).toEqual([1, 2, 3]);
    expect(sequencer.lastSeq).toBe(3);
  });

  it('drops what the client already has: a live batch that overlaps the backlog is sent once', () => {
    const sequencer = new LogFrameSequencer(2, roomy);
    sequencer.add(lines(4, 8)); // live, arrived while the backlog was being read
    sequencer.add(lines(1, 5)); // backlog page
    expect(describeFrames(drain(sequencer))).toEqual([3, 4, 5, 6, 7, 8]);
    sequencer.add(lines(6, 9)); // redelivered live message
    expect(describeFrames(drain(sequencer))).toEqual([9]);
  });

  it('waits at a hole nobody reported, and goes on once the missing lines come', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    sequencer.add([line(1), line(4), line(5)]);
    expect(describeFrames(drain(sequencer))).toEqual([1]);
    expect(sequencer.hasHole).toBe(true);
    expect(sequencer.firstPendingSeq).toBe(4);
    sequencer.add([line(2), line(3)]);
    expect(sequencer.hasHole).toBe(false);
    expect(describeFrames(drain(sequencer))).toEqual([2, 3, 4, 5]);
  });

  it('turns a reported hole into one gap frame and goes on after it', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    sequencer.add([line(1), line(2), line(7)], [gap(2, 7, 4096)]);
    expect(drain(sequencer)).toEqual([
      { type: 'line', ...line(1) },
      { type: 'line', ...line(2) },
      { type: 'gap', afterSeq: 2, beforeSeq: 7, bytes: 4096, reason: 'truncated' },
      { type: 'line', ...line(7) },
    ]);
  });

  it('starts a gap at the client’s position when it resumes inside the hole', () => {
    const sequencer = new LogFrameSequencer(4, roomy);
    sequencer.add([line(10)], [gap(2, 10, 500)]);
    expect(describeFrames(drain(sequencer))).toEqual(['gap 4..10 truncated', 10]);
  });

  it('ignores a gap the client is already past, and a gap that misses nothing', () => {
    const sequencer = new LogFrameSequencer(9, roomy);
    sequencer.add([line(10)], [gap(2, 10), gap(10, 11)]);
    expect(describeFrames(drain(sequencer))).toEqual([10]);
  });

  it('makes one frame of one hole reported with two reasons, with the bytes of both', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    const hole = [gap(0, 5, 100, 'truncated'), gap(0, 5, 20, 'agent-dropped')];
    sequencer.add([line(5)], [...hole, ...hole]); // and the same page read twice
    expect(drain(sequencer)).toEqual([
      { type: 'gap', afterSeq: 0, beforeSeq: 5, bytes: 120, reason: 'truncated' },
      { type: 'line', ...line(5) },
    ]);
  });

  it('prefers a known line over a reported hole that claims to cover it', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    sequencer.add([line(1), line(3)], [gap(1, 6, 0, 'agent-dropped')]);
    sequencer.add([line(6)]);
    expect(describeFrames(drain(sequencer))).toEqual([
      1,
      'gap 1..3 agent-dropped',
      3,
      'gap 3..6 agent-dropped',
      6,
    ]);
  });

  it('skips a hole on request and drops the held lines it passes', () => {
    const sequencer = new LogFrameSequencer(0, roomy);
    sequencer.add([line(1), line(5), line(6)]);
    drain(sequencer);
    expect(sequencer.skipTo(5, 'agent-dropped', 0)).toEqual({
      type: 'gap',
      afterSeq: 1,
      beforeSeq: 5,
      bytes: 0,
      reason: 'agent-dropped',
    });
    expect(describeFrames(drain(sequencer))).toEqual([5, 6]);
    expect(sequencer.skipTo(3, 'agent-dropped', 0)).toBeUndefined();
  });

  it('holds at most the limits beyond a hole, keeping the lowest seqs and reporting the dropped count', () => {
    const sequencer = new LogFrameSequencer(0, { maxPendingLines: 3, maxPendingBytes: 1 << 20 });
    expect(sequencer.add(lines(5, 9))).toBe(2);
    expect(sequencer.pendingLineCount).toBe(3);
    expect(sequencer.add([line(2)])).toBe(0); // lower than the held ones: evicts the highest
    expect(sequencer.firstPendingSeq).toBe(2);
    sequencer.add([line(1)]);
    expect(describeFrames(drain(sequencer))).toEqual([1, 2]);
    expect(sequencer.highestSeenSeq).toBe(9);
  });

  it('bounds the held bytes as well as the held lines', () => {
    const sequencer = new LogFrameSequencer(0, { maxPendingLines: 100, maxPendingBytes: 10 });
    const dropped = sequencer.add([line(2, 'aaaaaa'), line(3, 'bbbbbb'), line(4, 'cc')]);
    expect(dropped).toBe(1);
    expect(sequencer.pendingLineCount).toBe(2);
  });

  it('forgets held lines on clearPending but keeps its position and the reported gaps', () => {
    const sequencer = new LogFrameSequencer(3, roomy);
    sequencer.add([line(9)], [gap(3, 5, 10)]);
    sequencer.clearPending();
    expect(sequencer.pendingLineCount).toBe(0);
    expect(describeFrames(drain(sequencer))).toEqual(['gap 3..5 truncated']);
    expect(sequencer.lastSeq).toBe(4);
  });
});
