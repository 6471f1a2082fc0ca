import { describe, expect, it } from 'vitest';
import {
  announce,
  createExecution,
  endExecution,
  endOf,
  follow,
  freshOrg,
  gapsOf,
  makeLines,
  range,
  SETTINGS,
  store,
  storeAndAnnounce,
  storedLog,
  useLogStreamServer,
} from './log-stream.fixture.js';

useLogStreamServer();

describe('backlog, live and end', () => {
  it('sends the stored backlog, then live lines, each once and in order, then the end frame and 1000', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await store(executionId, makeLines(1, 50));
    const client = await follow(orgId, executionId, 0);

    // The relay publishes 1–50 (which overlaps the backlog) with 51–80, then redelivers both.
    await storeAndAnnounce(executionId, makeLines(51, 80));
    await announce(executionId, { again: true });
    await storeAndAnnounce(executionId, makeLines(81, 100));
    await client.until(() => client.seqs().length >= 100);
    await endExecution(executionId, 100, 'Completed', 0);

    expect(await client.closed).toEqual({ code: 1000, reason: 'execution ended' });
    expect(client.seqs()).toEqual(range(1, 100));
    expect(gapsOf(client.frames)).toEqual([]);
    expect(client.frames.at(-1)).toEqual({
      type: 'end',
      status: 'Completed',
      exitCode: 0,
      truncatedBytes: 0,
    });
    const fifth = client.frames.find((frame) => frame.type === 'line' && frame.seq === 5);
    expect(fifth).toMatchObject({ type: 'line', stream: 'stderr', text: 'line 5' });
  });

  it('gives a client that keeps up every line live, even those the store drops soon after', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const client = await follow(orgId, executionId);
    const text = (seq: number) => `row ${seq} `.padEnd(100, '-');
    for (let from = 1; from <= 3000; from += 100) {
      await storeAndAnnounce(executionId, makeLines(from, from + 99, text)); // 300 KB into a 64 KiB log
    }
    await endExecution(executionId, 3000);
    expect((await client.closed).code).toBe(1000);
    expect(client.seqs()).toEqual(range(1, 3000));
    expect(gapsOf(client.frames)).toEqual([]);
    const stored = await storedLog(orgId, executionId, 0);
    expect(stored.gaps).toMatchObject([{ reason: 'truncated' }]);
    expect(endOf(client.frames)).toMatchObject({ truncatedBytes: stored.truncatedBytes });
  });

  it('resumes after the last seq a client saw: nothing twice, nothing missed', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await storeAndAnnounce(executionId, makeLines(1, 30));
    const first = await follow(orgId, executionId, 0);
    await first.until(() => first.seqs().length >= 30);
    first.close();
    await first.closed;

    await storeAndAnnounce(executionId, makeLines(31, 40)); // while nobody watches
    const second = await follow(orgId, executionId, 30);
    await storeAndAnnounce(executionId, makeLines(41, 45));
    await endExecution(executionId, 45, 'Failed', 3);
    await second.closed;
    expect([...first.seqs(), ...second.seqs()]).toEqual(range(1, 45));
    expect(endOf(second.frames)).toEqual({ type: 'end', status: 'Failed', exitCode: 3, truncatedBytes: 0 });
  });

  it('puts announcements that overtake each other (two storing replicas) back in seq order', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const client = await follow(orgId, executionId);
    await store(executionId, makeLines(1, 5));
    await store(executionId, makeLines(6, 10));
    await store(executionId, makeLines(11, 15));
    await announce(executionId, { newestFirst: true });
    await client.until(() => client.seqs().length >= 15);
    expect(client.seqs()).toEqual(range(1, 15));
    expect(gapsOf(client.frames)).toEqual([]);
    client.close();
  });

  it('reads lines whose live message was lost from the store, by polling', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const client = await follow(orgId, executionId);
    await storeAndAnnounce(executionId, makeLines(1, 5));
    await store(executionId, makeLines(6, 10));
    await announce(executionId, { lost: true }); // published, but this replica never got it
    await storeAndAnnounce(executionId, makeLines(11, 12));
    await client.until(() => client.seqs().length >= 12, 5000);
    expect(client.seqs()).toEqual(range(1, 12));
    client.close();
  });

  it('announces a hole the store reports as a gap frame, and the truncated bytes in the end frame', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    // 60 lines of ~40 bytes in a 1 KiB log: the store keeps a head and a tail and drops the middle.
    const text = (seq: number) => `line ${seq} `.padEnd(40, '.');
    await store(executionId, makeLines(1, 60, text), { maxBytes: 1024 });
    await endExecution(executionId, 60);
    const stored = await storedLog(orgId, executionId, 5);
    const [hole] = stored.gaps;
    expect(hole).toMatchObject({ reason: 'truncated' });
    if (!hole) return;
    expect(hole.afterSeq).toBeGreaterThan(5);

    const client = await follow(orgId, executionId, 5);
    expect((await client.closed).code).toBe(1000);
    expect(client.seqs()).toEqual(stored.items.map((line) => line.seq));
    expect(client.seqs()).toEqual([...range(6, hole.afterSeq), ...range(hole.beforeSeq, 60)]);
    expect(gapsOf(client.frames)).toEqual([{ type: 'gap', ...hole }]);
    expect(endOf(client.frames)).toMatchObject({ truncatedBytes: stored.truncatedBytes });
    expect(stored.truncatedBytes).toBeGreaterThan(0);
  });

  it('passes on gaps that live messages announce (lines the agent dropped)', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const client = await follow(orgId, executionId);
    await storeAndAnnounce(executionId, makeLines(1, 3));
    await store(executionId, makeLines(8, 9), { droppedBytes: 999 }); // the agent dropped 4–7
    await announce(executionId);
    await client.until(() => client.seqs().length >= 5);
    expect(client.frames.map((frame) => (frame.type === 'line' ? frame.seq : frame.type))).toEqual([
      1,
      2,
      3,
      'gap',
      8,
      9,
    ]);
    expect(gapsOf(client.frames)[0]).toMatchObject({ afterSeq: 3, beforeSeq: 8, bytes: 999 });
    client.close();
  });

  it('announces lines still missing after the end as a gap once the hole wait is over, then ends', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await store(executionId, makeLines(1, 4));
    await endExecution(executionId, 7); // lines 5–7 never arrive (say, their chunk was dead-lettered)
    const client = await follow(orgId, executionId);
    expect((await client.closed).code).toBe(1000);
    expect(client.seqs()).toEqual(range(1, 4));
    expect(gapsOf(client.frames)).toEqual([
      { type: 'gap', afterSeq: 4, beforeSeq: 8, bytes: 0, reason: 'agent-dropped' },
    ]);
  });

  it('ends after a quiet grace when the end report names no last seq', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await store(executionId, makeLines(1, 3));
    await endExecution(executionId, null, 'Cancelled', 137);
    const started = Date.now();
    const client = await follow(orgId, executionId);
    expect((await client.closed).code).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SETTINGS.endGraceMs - 50);
    expect(client.seqs()).toEqual([1, 2, 3]);
    expect(endOf(client.frames)).toEqual({
      type: 'end',
      status: 'Cancelled',
      exitCode: 137,
      truncatedBytes: 0,
    });
  });

  it('ends at once for an execution that printed nothing', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await endExecution(executionId, 0);
    const client = await follow(orgId, executionId);
    expect((await client.closed).code).toBe(1000);
    expect(client.frames).toEqual([{ type: 'end', status: 'Completed', exitCode: 0, truncatedBytes: 0 }]);
  });
});
