import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { ExecutionJournal, type JournalledTask, type TerminalReport } from './execution-journal.js';

afterAll(removeDataDirs);

const logger = pino({ level: 'silent' });
const task = (): JournalledTask => ({
  taskId: randomUUID(),
  executionId: randomUUID(),
  correlationId: 'c-1',
  type: 'Command',
  attempt: 1,
  deadline: '2030-01-01T00:00:00.000Z',
});
const completed = (t: JournalledTask, sequence: number): TerminalReport =>
  buildEnvelope(
    'TaskCompleted',
    1,
    { messageId: randomUUID(), occurredAt: new Date(), correlationId: t.correlationId, nodeId: 'n' },
    { taskId: t.taskId, executionId: t.executionId, sequence, exitCode: 0, durationMs: 5 },
  );

describe('ExecutionJournal', () => {
  it('remembers accepted executions, their process, log position and end report across a reopen', () => {
    const dir = temporaryDataDir();
    const journal = new ExecutionJournal({ dir, logger });
    const running = task();
    const ended = task();
    journal.accepted(running);
    journal.sequenceUsed(running.executionId, 1);
    journal.started(running.executionId, { pid: 1234, startTime: '987' });
    journal.logPublished(running.executionId, { seq: 7, stdout: 70, stderr: 3 });
    journal.accepted(ended);
    const report = completed(ended, 2);
    journal.ended(report);
    journal.close();

    const reopened = new ExecutionJournal({ dir, logger });
    expect(reopened.get(running.executionId)).toMatchObject({
      task: running,
      lastSequence: 1,
      started: { process: { pid: 1234, startTime: '987' } },
      log: { seq: 7, stdout: 70, stderr: 3 },
    });
    expect(reopened.get(ended.executionId)).toMatchObject({ end: report, lastSequence: 2 });
    expect(
      reopened
        .unfinished()
        .map((entry) => entry.task.executionId)
        .sort(),
    ).toEqual([running.executionId, ended.executionId].sort());
    reopened.close();
  });

  it('keeps a confirmed execution only to recognise its redeliveries', () => {
    const dir = temporaryDataDir();
    const journal = new ExecutionJournal({ dir, logger });
    const done = task();
    journal.accepted(done);
    journal.ended(completed(done, 2));
    journal.confirmed(done.executionId);
    journal.close();
    const reopened = new ExecutionJournal({ dir, logger });
    expect(reopened.unfinished()).toEqual([]);
    expect(reopened.get(done.executionId)?.confirmedAt).toEqual(expect.any(String));
    expect(reopened.get(done.executionId)?.end).toBeUndefined();
    reopened.close();
  });

  it('forgets confirmed executions past their retention, never unfinished ones', () => {
    const dir = temporaryDataDir();
    let now = new Date('2026-01-01T00:00:00Z');
    const journal = new ExecutionJournal({ dir, logger, retainMs: 60_000, now: () => now });
    const old = task();
    const unfinished = task();
    journal.accepted(old);
    journal.confirmed(old.executionId);
    journal.accepted(unfinished);
    now = new Date('2026-01-01T00:05:00Z');
    journal.compact();
    expect(journal.get(old.executionId)).toBeUndefined();
    expect(journal.get(unfinished.executionId)).toBeDefined();
    journal.close();
  });

  it('ignores a torn last line (a crash in the middle of a write)', () => {
    const dir = temporaryDataDir();
    const journal = new ExecutionJournal({ dir, logger });
    const accepted = task();
    journal.accepted(accepted);
    journal.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"k":"started","id":"');
    const reopened = new ExecutionJournal({ dir, logger });
    expect(reopened.get(accepted.executionId)?.started).toBeUndefined();
    reopened.close();
  });

  it('compacts the file once it grows past its bound, keeping what is needed', () => {
    const dir = temporaryDataDir();
    const journal = new ExecutionJournal({ dir, logger, compactAfterBytes: 4096 });
    const running = task();
    journal.accepted(running);
    for (let seq = 1; seq <= 500; seq++) {
      journal.logPublished(running.executionId, { seq, stdout: seq * 10, stderr: 0 });
    }
    const path = join(dir, 'journal.jsonl');
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(readFileSync(path, 'utf8')).toContain('"seq":500');
    journal.close();
    expect(new ExecutionJournal({ dir, logger }).get(running.executionId)?.log?.seq).toBe(500);
  });

  it('is readable by the agent user only', () => {
    const dir = temporaryDataDir();
    new ExecutionJournal({ dir: join(dir, 'data'), logger }).close();
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'data', 'journal.jsonl')).mode & 0o777).toBe(0o600);
  });
});
