import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { describeMessage, messagesOf } from '../testing/messages.js';
import { DiskSpool } from './disk-spool.js';

afterAll(removeDataDirs);

const logger = pino({ level: 'silent' });
const open = (dir: string, maxBytes = 1024 * 1024, segmentBytes = 64 * 1024) =>
  new DiskSpool({ dir, maxBytes, segmentBytes, logger });

/** Reads everything left, committing as it goes. */
function drain(spool: DiskSpool): string[] {
  const seen: string[] = [];
  for (let batch = spool.readBatch(7); batch.length > 0; batch = spool.readBatch(7)) {
    seen.push(...batch.map((record) => describeMessage(record.message)));
    const last = batch.at(-1);
    if (last) spool.commit(last.next);
    spool.unlockRead();
  }
  return seen;
}

describe('DiskSpool', () => {
  it('gives the messages back in order, across segments, and deletes what was sent', () => {
    const dir = temporaryDataDir();
    const spool = open(dir, 1024 * 1024, 1024);
    const m = messagesOf();
    const expected: string[] = [];
    for (let seq = 1; seq <= 50; seq++) {
      spool.append(m.chunk(seq));
      expected.push(`LogChunk:${seq}-${seq}`);
    }
    spool.append(m.completed(2), { durable: true });
    expected.push('TaskCompleted:2');
    expect(readdirSync(dir).filter((name) => name.endsWith('.jsonl')).length).toBeGreaterThan(1);

    expect(drain(spool)).toEqual(expected);
    expect(spool.isEmpty).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.jsonl')).length).toBeLessThanOrEqual(1);
    spool.close();
  });

  it('survives a restart: a new spool on the directory goes on after the last commit', () => {
    const dir = temporaryDataDir();
    const spool = open(dir);
    const m = messagesOf();
    for (let seq = 1; seq <= 5; seq++) spool.append(m.chunk(seq));
    const [first, second] = spool.readBatch(2);
    if (second) spool.commit(second.next);
    expect(first && describeMessage(first.message)).toBe('LogChunk:1-1');
    spool.close();

    const reopened = open(dir);
    reopened.append(m.completed(1));
    expect(drain(reopened)).toEqual(['LogChunk:3-3', 'LogChunk:4-4', 'LogChunk:5-5', 'TaskCompleted:1']);
    reopened.close();
  });

  it('drops a torn last record (a crash in the middle of an append)', () => {
    const dir = temporaryDataDir();
    const spool = open(dir);
    spool.append(messagesOf().progress(1));
    spool.close();
    const segment = readdirSync(dir).find((name) => name.endsWith('.jsonl')) ?? '';
    appendFileSync(join(dir, segment), '{"type":"TaskCompl');
    const reopened = open(dir);
    expect(drain(reopened)).toEqual(['TaskProgress:1']);
    reopened.close();
  });

  it('stays within its bound by dropping the oldest log lines, never a report, and carries the count', () => {
    const dir = temporaryDataDir();
    const maxBytes = 64 * 1024;
    const spool = open(dir, maxBytes, 8 * 1024);
    const m = messagesOf();
    const text = 'x'.repeat(500);
    spool.append(m.progress(1));
    for (let seq = 1; seq <= 400; seq++) spool.append(m.chunk(seq, 1, text));
    spool.append(m.completed(2), { durable: true });

    expect(spool.bytes).toBeLessThanOrEqual(maxBytes);
    const left = drain(spool);
    // The oldest lines went; the newest and both reports stayed, in order.
    expect(left[0]).toBe('TaskProgress:1');
    expect(left.at(-2)).toBe('LogChunk:400-400');
    expect(left.at(-1)).toBe('TaskCompleted:2');
    const keptLines = left.filter((entry) => entry.startsWith('LogChunk')).length;
    expect(spool.stats.droppedLines).toBe(400 - keptLines);
    expect(spool.takeCarry(m.ids.executionId)).toBe(spool.stats.droppedLines * text.length);
    expect(spool.takeCarry(m.ids.executionId)).toBe(0);
    spool.close();
  });

  it('keeps its files private', () => {
    const dir = join(temporaryDataDir(), 'spool');
    const spool = open(dir);
    spool.append(messagesOf().progress(1));
    spool.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
  });
});
