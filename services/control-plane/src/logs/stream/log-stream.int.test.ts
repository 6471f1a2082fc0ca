import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { serve } from '@hono/node-server';
import { connect as connectAmqp, type Channel, type ChannelModel } from 'amqplib';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LogStreamFrame } from '@meridian/contracts/api/execution-log';
import type { LogLine } from '@meridian/contracts/messages/log-chunk';
import { actorOf, createTestAppDeps } from '../../../../../test/support/app-deps.js';
import { openLogStream, type LogStreamClient } from '../../../../../test/support/log-stream-client.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  useTestDatabase,
  waitFor,
} from '../../../../../test/support/test-context.js';
import { readExecutionLog } from '../../app/read-execution-log.js';
import { createAuthenticator } from '../../http/auth.js';
import { createApp } from '../../http/create-app.js';
import { signTestToken, TEST_SECRET } from '../../http/test-tokens.js';
import { storeLogChunks } from '../store/store-log-chunks.js';
import { LiveLogSubscriptions } from './live-subscriptions.js';
import { createLogStreamServer, type LogStreamServer } from './log-stream-server.js';
import type { LogStreamSettings } from './log-stream-settings.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let live: LiveLogSubscriptions;
let amqp: ChannelModel;
let publisher: Channel;

const SETTINGS: LogStreamSettings = {
  maxBufferedBytes: 64 * 1024,
  pingMs: 30_000,
  pollMs: 100,
  endGraceMs: 300,
  holeWaitMs: 1000,
  pageSize: 200,
};

interface TestServer {
  baseUrl: string;
  streams: LogStreamServer;
  /** What a replaced process would do: close every stream with 1001, then serve new ones. */
  restartStreams(): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(settings: LogStreamSettings): Promise<TestServer> {
  const auth = createAuthenticator({ secret: TEST_SECRET });
  const app = createApp({ app: deps, auth, readiness: {} });
  const create = () => createLogStreamServer({ app: deps, auth, live, readLog: readExecutionLog, settings });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
      resolve(started as Server),
    );
  });
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    streams: create(),
    async restartStreams() {
      await handle.streams.close();
      handle.streams = create();
    },
    async stop() {
      await handle.streams.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('upgrade', (request, socket, head) => handle.streams.handleUpgrade(request, socket, head));
  return handle;
}

let main: TestServer;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  connection = new Connection({ url: testAmqpUrl(), connectionName: 'log-stream-test' });
  live = new LiveLogSubscriptions({ connection, topology: deps.topology, logger: deps.logger });
  amqp = await connectAmqp(testAmqpUrl());
  publisher = await amqp.createChannel();
  main = await startServer(SETTINGS);
});

afterAll(async () => {
  await main.stop();
  await live.close();
  await connection.close();
  await publisher.close();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix, {
    queues: [],
    exchanges: [deps.topology.liveLogsExchange],
  });
  await deps.dataSource.destroy();
});

const freshOrg = () => `org-${randomUUID().slice(0, 8)}`;

const NODE_ID = 'n1';
const taskOf = new Map<string, string>();

async function createExecution(orgId: string): Promise<string> {
  const taskId = randomUUID();
  const executionId = randomUUID();
  await deps.dataSource.query(
    `INSERT INTO tasks (id, org_id, type, name, priority, status, target_type, target_id, timeout_seconds,
                        max_retries, run_after, created_by, correlation_id, created_at, updated_at)
     VALUES ($1, $2, 'Command', 'logs', 1, 'Running', 'Node', $3, 300, 0, now(), 'u', 'c', now(), now())`,
    [taskId, orgId, NODE_ID],
  );
  await deps.dataSource.query(
    `INSERT INTO executions (id, task_id, org_id, attempt, status, node_id, dispatched_at, deadline, correlation_id)
     VALUES ($1, $2, $3, 1, 'Running', $4, now(), now() + interval '1 hour', 'c')`,
    [executionId, taskId, orgId, NODE_ID],
  );
  taskOf.set(executionId, taskId);
  return executionId;
}

function makeLines(from: number, to: number, text = (seq: number) => `line ${seq}`): LogLine[] {
  return Array.from({ length: to - from + 1 }, (_, index) => {
    const seq = from + index;
    return {
      seq,
      stream: seq % 5 === 0 ? 'stderr' : 'stdout',
      ts: new Date().toISOString(),
      text: text(seq),
    };
  });
}

/** The store's own write, as the logs consumer calls it: lines plus a LogLinesStored outbox row. */
async function store(
  executionId: string,
  lines: LogLine[],
  options: { droppedBytes?: number; maxBytes?: number } = {},
): Promise<void> {
  const [result] = await storeLogChunks(
    deps,
    [
      {
        messageId: randomUUID(),
        type: 'LogChunk',
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        correlationId: 'test',
        nodeId: NODE_ID,
        payload: {
          taskId: taskOf.get(executionId) ?? '',
          executionId,
          lines,
          droppedBytes: options.droppedBytes ?? 0,
        },
      },
    ],
    { maxBytes: options.maxBytes ?? 65_536 },
  );
  expect(result?.outcome).not.toBe('ignored');
}

interface OutboxRow {
  id: string;
  message_id: string;
  body: unknown;
}

/** What the outbox relay does with the execution's LogLinesStored rows (`again`: a redelivery). */
async function announce(
  executionId: string,
  options: { again?: boolean; lost?: boolean; newestFirst?: boolean } = {},
) {
  const rows = await deps.dataSource.query<OutboxRow[]>(
    `SELECT id, message_id, body FROM outbox
      WHERE routing_key = $1 AND ($2 OR published_at IS NULL) ORDER BY id`,
    [deps.topology.liveLogKey(executionId), options.again ?? false],
  );
  for (const row of options.newestFirst ? [...rows].reverse() : rows) {
    if (options.lost) continue;
    publisher.publish(
      deps.topology.liveLogsExchange,
      deps.topology.liveLogKey(executionId),
      Buffer.from(JSON.stringify(row.body)),
      { contentType: 'application/json', type: 'LogLinesStored', messageId: row.message_id },
    );
  }
  await deps.dataSource.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [
    rows.map((row) => row.id),
  ]);
}

async function storeAndAnnounce(executionId: string, lines: LogLine[]): Promise<void> {
  await store(executionId, lines);
  await announce(executionId);
}

/** The stored log as the REST endpoint serves it, for comparison with what the stream sent. */
async function storedLog(orgId: string, executionId: string, after: number) {
  return readExecutionLog(deps, actorOf(orgId), executionId, { after, limit: 5000 });
}

async function endExecution(
  executionId: string,
  lastLogSeq: number | null,
  status = 'Completed',
  exitCode = 0,
) {
  await deps.dataSource.query(
    `UPDATE executions SET status = $2, exit_code = $3, last_log_seq = $4, completed_at = now() WHERE id = $1`,
    [executionId, status, exitCode, lastLogSeq],
  );
}

const tokenFor = (orgId: string, permissions?: string[]) => signTestToken({ orgId, permissions });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const gapsOf = (frames: readonly LogStreamFrame[]) => frames.filter((frame) => frame.type === 'gap');
const endOf = (frames: readonly LogStreamFrame[]) => frames.find((frame) => frame.type === 'end');

async function follow(orgId: string, executionId: string, after?: number): Promise<LogStreamClient> {
  return openLogStream(
    main.baseUrl,
    executionId,
    await tokenFor(orgId),
    after === undefined ? {} : { after },
  );
}

/** The refusal of an upgrade request, read as a plain HTTP response. */
function refusal(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string | undefined; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (_response, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: JSON.parse(text) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const streamPath = (executionId: string, query = '') =>
  `/api/v1/tasks/executions/${executionId}/logs/stream${query}`;

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

describe('auth before the upgrade', () => {
  it('accepts the token as a bearer.<jwt> subprotocol and selects that protocol', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId);
    const socket = new WebSocket(`${main.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`, [
      'meridian.logs',
      `bearer.${token}`,
    ]);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe(`bearer.${token}`);
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
  });

  it.each([
    ['no token', () => ({}), 401],
    ['a token that does not verify', () => ({ Authorization: 'Bearer not.a.jwt' }), 401],
    ['a subprotocol without a token', () => ({ 'Sec-WebSocket-Protocol': 'bearer.' }), 401],
  ])('answers %s with 401 problem+json and no upgrade', async (_name, headers, status) => {
    const executionId = await createExecution(freshOrg());
    const answer = await refusal(main.baseUrl, streamPath(executionId), headers());
    expect(answer.status).toBe(status);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status, type: '/problems/unauthenticated' });
  });

  it('answers 403 without task:read', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId, ['task:write']);
    const answer = await refusal(main.baseUrl, streamPath(executionId), { Authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 403, body: { type: '/problems/forbidden' } });
  });

  it.each([
    ['another organisation’s execution', async () => streamPath(await createExecution(freshOrg()))],
    ['an unknown execution', () => Promise.resolve(streamPath(randomUUID()))],
    ['a non-UUID id', () => Promise.resolve(streamPath('12345'))],
    ['another path', () => Promise.resolve('/api/v1/tasks')],
  ])('answers 404 for %s', async (_name, path) => {
    const token = await tokenFor(freshOrg());
    const answer = await refusal(main.baseUrl, await path(), { Authorization: `Bearer ${token}` });
    expect(answer).toMatchObject({ status: 404, body: { status: 404, type: '/problems/not-found' } });
    expect(answer.body['correlationId']).toEqual(expect.any(String));
  });

  it('answers 400 for a bad after', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId);
    const answer = await refusal(main.baseUrl, streamPath(executionId, '?after=-3'), {
      Authorization: `Bearer ${token}`,
    });
    expect(answer).toMatchObject({ status: 400, body: { type: '/problems/validation' } });
  });
});

describe('slow clients', () => {
  it('never buffers much more than the limit for a client that does not read, and announces what it missed', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const token = await tokenFor(orgId);
    const url = `${main.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`;
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
    const frames: LogStreamFrame[] = [];
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as LogStreamFrame));
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.pause(); // reads nothing: the kernel buffers fill, then the server's

    const total = 8000;
    const text = (seq: number) => `${seq} `.padEnd(2048, 'x');
    const batch = 100;
    for (let from = 1; from <= total; from += batch) {
      // 16 MB of output: the store keeps 64 KiB of it (head and tail), the live messages carry all.
      await storeAndAnnounce(executionId, makeLines(from, from + batch - 1, text));
    }
    // The server has stopped sending to this client before its buffer passed the limit by much.
    await waitFor(() => main.streams.stats().maxBufferedBytes >= SETTINGS.maxBufferedBytes, {
      description: 'the server to fill its buffer for the slow client',
    });
    await endExecution(executionId, total);
    const firstTailSeq = (await storedLog(orgId, executionId, 100)).items[0]?.seq ?? 0;
    expect(firstTailSeq).toBeGreaterThan(7900);
    socket.resume();

    expect(await closed).toBe(1000);
    // The bound of the policy: the limit, plus the lines held while paused (the limit again), plus
    // one batch sent whole; 16 MB went by.
    const frameBytes = Buffer.byteLength(JSON.stringify({ type: 'line', ...makeLines(1, 1, text)[0] }));
    const bound = 2 * SETTINGS.maxBufferedBytes + batch * frameBytes;
    expect(main.streams.stats().maxBufferedBytes).toBeLessThanOrEqual(bound);
    const seqs = frames.flatMap((frame) => (frame.type === 'line' ? [frame.seq] : []));
    const gaps = gapsOf(frames);
    expect(gaps).toHaveLength(1);
    const gap = gaps[0] as Extract<LogStreamFrame, { type: 'gap' }>;
    // Lines the client missed while slow and the store no longer holds: one gap, then the tail.
    expect(gap).toMatchObject({ reason: 'slow-client', beforeSeq: firstTailSeq });
    expect(gap.afterSeq).toBeGreaterThan(100); // it did get the first part before it stopped reading
    expect(seqs).toEqual([...range(1, gap.afterSeq), ...range(firstTailSeq, total)]);
    expect(endOf(frames)).toMatchObject({ type: 'end', status: 'Completed' });
  });
});

describe('keep-alive, cleanup and shutdown', () => {
  it('leaves no watch behind when the last client of an execution goes', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const watchedBefore = live.watchedExecutions;
    const a = await follow(orgId, executionId);
    const b = await follow(orgId, executionId);
    await waitFor(() => live.watchedExecutions === watchedBefore + 1);
    a.close();
    await a.closed;
    await storeAndAnnounce(executionId, makeLines(1, 3));
    await b.until(() => b.seqs().length === 3);
    expect(live.watchedExecutions).toBe(watchedBefore + 1);
    b.close();
    await b.closed;
    await waitFor(() => live.watchedExecutions === watchedBefore, { description: 'the watch to go' });
  });

  it('pings idle sockets, keeps those that answer and terminates those that do not, then closes with 1001 on shutdown', async () => {
    const server = await startServer({ ...SETTINGS, pingMs: 100 });
    try {
      const orgId = freshOrg();
      const executionId = await createExecution(orgId);
      const token = await tokenFor(orgId);
      const url = `${server.baseUrl.replace('http', 'ws')}${streamPath(executionId)}`;
      const open = (options: WebSocket.ClientOptions) =>
        new Promise<{ socket: WebSocket; closed: Promise<number> }>((resolve, reject) => {
          const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, ...options });
          const closed = new Promise<number>((done) => socket.once('close', (code: number) => done(code)));
          socket.once('open', () => resolve({ socket, closed }));
          socket.once('error', reject);
        });
      const answering = await open({});
      let pings = 0;
      answering.socket.on('ping', () => (pings += 1));
      const silent = await open({ autoPong: false });

      expect(await silent.closed).toBe(1006); // terminated: no close frame
      await waitFor(() => pings >= 4, { description: 'several ping rounds' });
      expect(answering.socket.readyState).toBe(WebSocket.OPEN);

      await server.streams.close();
      expect(await answering.closed).toBe(1001);
      const refused = await refusal(server.baseUrl, streamPath(executionId), {
        Authorization: `Bearer ${token}`,
      });
      expect(refused.status).toBe(503);
    } finally {
      await server.stop();
    }
  });
});

const ROOT = resolvePath(import.meta.dirname, '../../../../..');

interface CliRun {
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `npm run logs -- …` without npm in between: tsx runs the CLI as an operator would. */
function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(`${ROOT}/node_modules/.bin/tsx`, ['services/control-plane/src/cli/logs.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  void exited.then(() => clearTimeout(timer));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

describe('npm run logs', () => {
  it('prints stdout and stderr lines to their streams, gaps as a marker, and the end status; exits 0', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    await store(executionId, makeLines(1, 6));
    await store(executionId, makeLines(9, 10), { droppedBytes: 77 });
    await endExecution(executionId, 10, 'Completed', 0);
    const cli = runCli([executionId, '--url', main.baseUrl, '--after', '2'], {
      MERIDIAN_TOKEN: await tokenFor(orgId),
    });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe(['line 3', 'line 4', 'line 6', 'line 9'].map((l) => `${l}\n`).join(''));
    expect(cli.stderr()).toContain('line 5\n');
    expect(cli.stderr()).toContain('line 10\n');
    expect(cli.stderr()).toContain('[… 2 line(s) missing: 77 bytes, agent-dropped …]');
    expect(cli.stderr()).toContain('[execution Completed, exit code 0]');
  });

  it('exits non-zero with the HTTP status when refused, and 2 without a token', async () => {
    const executionId = await createExecution(freshOrg());
    const refused = runCli([executionId, '--url', main.baseUrl, '--token', await tokenFor(freshOrg())]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/error: HTTP 404 Not found: execution .* was not found/);
    const tokenless = runCli([executionId, '--url', main.baseUrl]);
    expect(await tokenless.exited).toBe(2);
    expect(tokenless.stderr()).toContain('MERIDIAN_TOKEN');
  });

  it('reconnects after the last seq it printed when the connection drops before the end', async () => {
    const orgId = freshOrg();
    const executionId = await createExecution(orgId);
    const cli = runCli([executionId, '--url', main.baseUrl, '--token', await tokenFor(orgId)]);
    await storeAndAnnounce(executionId, makeLines(1, 4));
    await waitFor(() => cli.stdout().includes('line 4\n'), { description: 'the CLI to print line 4' });

    await main.restartStreams(); // the stream closes with 1001
    await storeAndAnnounce(executionId, makeLines(5, 8));
    await endExecution(executionId, 8);
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toMatch(/connection lost: closed with 1001 .*reconnecting after seq 4/);
    const printed = `${cli.stdout()}${cli.stderr()}`.match(/^line \d+$/gm);
    expect(printed?.sort()).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      'line 6',
      'line 7',
      'line 8',
    ]);
  });
});
