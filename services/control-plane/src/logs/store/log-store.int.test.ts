import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionLogPage } from '@meridian/contracts/api/execution-log';
import type { LogLine } from '@meridian/contracts/messages/log-chunk';
import { LOG_LINES_STORED, LogLinesStoredSchema } from '@meridian/contracts/messages/log-lines-stored';
import {
  actorOf,
  createTestAppDeps,
  dispatchedExecution,
  report,
} from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';

import { readExecutionLog } from '../../app/read-execution-log.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { NotFoundError } from '../../domain/errors.js';

import { storeLogChunks, type LogChunkMessage } from './store-log-chunks.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
const MAX_BYTES = 65_536;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

interface Running {
  orgId: string;
  nodeId: string;
  taskId: string;
  executionId: string;
}

/** A task of an organisation of its own, dispatched to its node: an execution to log against. */
function runningExecution(): Promise<Running> {
  return dispatchedExecution(deps);
}

function lineOf(seq: number, text = `line ${seq}`, stream: LogLine['stream'] = 'stdout'): LogLine {
  return { seq, stream, ts: new Date(Date.UTC(2026, 5, 1, 12, 0, 0, seq % 1000)).toISOString(), text };
}

function chunk(
  run: Running,
  lines: LogLine[],
  fields: { droppedBytes?: number; nodeId?: string; messageId?: string } = {},
): LogChunkMessage {
  return {
    messageId: fields.messageId ?? randomUUID(),
    type: 'LogChunk',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: `corr-${run.executionId.slice(0, 8)}`,
    nodeId: fields.nodeId ?? run.nodeId,
    payload: {
      taskId: run.taskId,
      executionId: run.executionId,
      lines,
      droppedBytes: fields.droppedBytes ?? 0,
    },
  };
}

/** Lines `from`..`to - 1` in chunks of `size`. */
function chunks(run: Running, from: number, to: number, size: number, text = (seq: number) => `line ${seq}`) {
  const result: LogChunkMessage[] = [];
  for (let start = from; start < to; start += size) {
    const lines: LogLine[] = [];
    for (let seq = start; seq < Math.min(to, start + size); seq += 1) lines.push(lineOf(seq, text(seq)));
    result.push(chunk(run, lines));
  }
  return result;
}

const store = (batch: LogChunkMessage[], maxBytes = MAX_BYTES) => storeLogChunks(deps, batch, { maxBytes });

async function readAll(run: Running, limit = 5000): Promise<ExecutionLogPage> {
  return readExecutionLog(deps, actorOf(run.orgId), run.executionId, { after: 0, limit });
}

async function logRows(executionId: string) {
  const [summary] = await deps.dataSource.query<Record<string, unknown>[]>(
    `SELECT * FROM execution_logs WHERE execution_id = $1`,
    [executionId],
  );
  const lines = await deps.dataSource.query<
    { seq: number; bytes: number; in_head: boolean; text_bytes: number }[]
  >(
    `SELECT seq, bytes, in_head, octet_length(text) + 1 AS text_bytes FROM execution_log_lines
      WHERE execution_id = $1 ORDER BY seq`,
    [executionId],
  );
  return { summary, lines };
}

async function liveMessages(executionId: string) {
  return deps.dataSource.query<
    { exchange: string; routing_key: string; type: string; body: { payload: unknown } }[]
  >(`SELECT exchange, routing_key, type, body FROM outbox WHERE routing_key = $1 ORDER BY id`, [
    deps.topology.liveLogKey(executionId),
  ]);
}

describe('storing execution logs', () => {
  it('stores 1,000 lines in order and reads them back, in pages too', async () => {
    const run = await runningExecution();
    const batches = chunks(run, 1, 1001, 40);
    for (let i = 0; i < batches.length; i += 5) {
      const results = await store(batches.slice(i, i + 5));
      expect(results.every((r) => r.outcome === 'stored')).toBe(true);
    }
    const page = await readAll(run);
    expect(page.items.map((l) => l.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(page.items[6]).toEqual({ seq: 7, stream: 'stdout', ts: lineOf(7).ts, text: 'line 7' });
    expect(page).toMatchObject({
      gaps: [],
      truncatedBytes: 0,
      nextAfter: null,
      ended: false,
      status: 'Dispatched',
    });

    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const next = await readExecutionLog(deps, actorOf(run.orgId), run.executionId, { after, limit: 300 });
      seen.push(...next.items.map((l) => l.seq));
      if (next.nextAfter === null) break;
      after = next.nextAfter;
    }
    expect(seen).toEqual(page.items.map((l) => l.seq));
  });

  it('changes nothing when a chunk is delivered again, before and after truncation', async () => {
    const run = await runningExecution();
    const first = chunks(run, 1, 11, 10);
    await store(first);
    const before = await logRows(run.executionId);
    const outboxBefore = (await liveMessages(run.executionId)).length;
    expect(await store(first)).toEqual([
      { messageId: first[0]!.messageId, outcome: 'duplicate', newLines: 0 },
    ]);
    expect(await logRows(run.executionId)).toEqual(before);
    expect(await liveMessages(run.executionId)).toHaveLength(outboxBefore);

    // 4,000 lines of ~100 bytes: most of the tail is dropped; then every chunk comes again.
    const text = (seq: number) => `${seq}`.padStart(99, '.');
    const flood = chunks(run, 11, 4001, 100, text);
    for (const batch of flood) await store([batch]);
    const truncated = await logRows(run.executionId);
    const outboxTruncated = (await liveMessages(run.executionId)).length;
    const again = await store([...first, ...flood]);
    expect(again.every((r) => r.outcome === 'duplicate')).toBe(true);
    expect(await logRows(run.executionId)).toEqual(truncated);
    expect(await liveMessages(run.executionId)).toHaveLength(outboxTruncated);
  });

  it('keeps at most EXECUTION_LOG_MAX_BYTES of a program printing 200 KiB: head, tail and the dropped bytes', async () => {
    const run = await runningExecution();
    // 2,048 lines of 100 bytes each (99 characters and the line ending): 200 KiB.
    const text = (seq: number) => `line ${String(seq).padStart(4, '0')} `.padEnd(99, 'x');
    for (const batch of chunks(run, 1, 2049, 64, text)) await store([batch]);

    const { summary, lines } = await logRows(run.executionId);
    const kept = lines.reduce((sum, l) => sum + l.bytes, 0);
    expect(lines.every((l) => l.bytes === l.text_bytes)).toBe(true);
    expect(kept).toBeLessThanOrEqual(MAX_BYTES);
    const head = lines.filter((l) => l.in_head);
    const tail = lines.filter((l) => !l.in_head);
    expect(head.reduce((sum, l) => sum + l.bytes, 0)).toBeLessThanOrEqual(MAX_BYTES / 2);
    expect(head.map((l) => l.seq)).toEqual(Array.from({ length: head.length }, (_, i) => i + 1));
    expect(tail.map((l) => l.seq)).toEqual(
      Array.from({ length: tail.length }, (_, i) => 2049 - tail.length + i),
    );
    expect(head).toHaveLength(327);
    expect(tail).toHaveLength(327);
    expect(Number(summary!['truncated_bytes'])).toBe(200 * 1024 - kept);

    const page = await readAll(run);
    expect(page.truncatedBytes).toBe(200 * 1024 - kept);
    expect(page.gaps).toEqual([
      { afterSeq: 327, beforeSeq: 2049 - 327, bytes: 200 * 1024 - kept, reason: 'truncated' },
    ]);
    expect(page.items[0]!.text).toBe(text(1));
    expect(page.items.at(-1)!.text).toBe(text(2048));

    // Every line reached live viewers, the ones the tail dropped at once included.
    const live = (await liveMessages(run.executionId)).flatMap(
      (row) => LogLinesStoredSchema.parse(row.body.payload).lines,
    );
    expect(live.map((l) => l.seq)).toEqual(Array.from({ length: 2048 }, (_, i) => i + 1));
  });

  it('keeps lines that arrive after the execution ended', async () => {
    const run = await runningExecution();
    await store(chunks(run, 1, 4, 3));
    const ref = { taskId: run.taskId, executionId: run.executionId, nodeId: run.nodeId };
    await recordAgentMessages(deps, [
      report('TaskAccepted', ref, 0),
      report('TaskStarted', ref, 1),
      report('TaskCompleted', ref, 2, { exitCode: 0, durationMs: 5, lastLogSeq: 5 }),
    ]);
    expect(await store(chunks(run, 4, 6, 2))).toMatchObject([{ outcome: 'stored', newLines: 2 }]);
    const page = await readAll(run);
    expect(page.items.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page).toMatchObject({ ended: true, status: 'Completed' });
  });

  it('is not found for another organisation, and ignores lines another organisation’s node sends', async () => {
    const run = await runningExecution();
    const other = await runningExecution();
    await expect(
      readExecutionLog(deps, actorOf(other.orgId), run.executionId, { after: 0, limit: 10 }),
    ).rejects.toBeInstanceOf(NotFoundError);

    const results = await store([
      chunk(run, [lineOf(1)], { nodeId: other.nodeId }),
      chunk({ ...run, executionId: randomUUID() }, [lineOf(1)]),
      chunk({ ...run, taskId: other.taskId }, [lineOf(1)]),
    ]);
    expect(results.map((r) => [r.outcome, r.reason])).toEqual([
      ['ignored', "another organisation's execution"],
      ['ignored', 'unknown execution'],
      ['ignored', 'execution of another task'],
    ]);
    expect((await readAll(run)).items).toEqual([]);
    expect(await liveMessages(run.executionId)).toEqual([]);
  });

  it('writes one LogLinesStored outbox row per execution per batch, with every new line and the agent’s gaps', async () => {
    const a = await runningExecution();
    const b = await runningExecution();
    await store([chunk(a, [lineOf(1)])]);
    await store([
      chunk(a, [lineOf(2), lineOf(3)]),
      chunk(b, [lineOf(1, 'b1', 'stderr')]),
      chunk(a, [lineOf(6), lineOf(7)], { droppedBytes: 300 }),
      chunk(b, [lineOf(2, 'b2')]),
    ]);
    const rowsA = await liveMessages(a.executionId);
    const rowsB = await liveMessages(b.executionId);
    expect(rowsA).toHaveLength(2);
    expect(rowsB).toHaveLength(1);
    expect(rowsA[1]).toMatchObject({
      exchange: deps.topology.liveLogsExchange,
      routing_key: deps.topology.liveLogKey(a.executionId),
      type: LOG_LINES_STORED,
    });
    expect(rowsA[1]!.body).toMatchObject({ type: LOG_LINES_STORED, nodeId: a.nodeId });
    const payloadA = LogLinesStoredSchema.parse(rowsA[1]!.body.payload);
    expect(payloadA).toEqual({
      executionId: a.executionId,
      orgId: a.orgId,
      lines: [lineOf(2), lineOf(3), lineOf(6), lineOf(7)],
      gaps: [{ afterSeq: 3, beforeSeq: 6, bytes: 300, reason: 'agent-dropped' }],
    });
    expect(
      LogLinesStoredSchema.parse(rowsB[0]!.body.payload).lines.map((l) => [l.seq, l.text, l.stream]),
    ).toEqual([
      [1, 'b1', 'stderr'],
      [2, 'b2', 'stdout'],
    ]);

    const page = await readAll(a);
    expect(page.gaps).toEqual([{ afterSeq: 3, beforeSeq: 6, bytes: 300, reason: 'agent-dropped' }]);
    const { summary } = await logRows(a.executionId);
    expect(Number(summary!['agent_dropped_bytes'])).toBe(300);
  });

  it('stores a chunk that arrives late (another replica was slower) in its place', async () => {
    const run = await runningExecution();
    await store([chunk(run, [lineOf(1), lineOf(2)])]);
    await store([chunk(run, [lineOf(5), lineOf(6)])]);
    expect(await store([chunk(run, [lineOf(3), lineOf(4)])])).toMatchObject([
      { outcome: 'stored', newLines: 2 },
    ]);
    expect((await readAll(run)).items.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps one execution’s window whole when two replicas store its chunks at the same time', async () => {
    const run = await runningExecution();
    const text = (seq: number) => `${seq}`.padStart(199, '-');
    const all = chunks(run, 1, 1201, 20, text);
    const even = all.filter((_, i) => i % 2 === 0);
    const odd = all.filter((_, i) => i % 2 === 1);
    const replica = async (own: LogChunkMessage[]) => {
      for (let i = 0; i < own.length; i += 3) await store(own.slice(i, i + 3), 16_384);
    };
    await Promise.all([replica(even), replica(odd)]);

    const { summary, lines } = await logRows(run.executionId);
    const kept = lines.reduce((sum, l) => sum + l.bytes, 0);
    expect(kept).toBeLessThanOrEqual(16_384);
    expect(Number(summary!['truncated_bytes']) + kept).toBeLessThanOrEqual(1200 * 200);
    const tail = lines.filter((l) => !l.in_head).map((l) => l.seq);
    expect(tail.at(-1)).toBe(1200);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => tail[0]! + i));
  });
});
