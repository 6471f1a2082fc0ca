import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { connect as connectAmqp, type Channel, type ChannelModel } from 'amqplib';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, expect } from 'vitest';
import type { LogStreamFrame } from '@meridian/contracts/api/execution-log';
import type { LogLine } from '@meridian/contracts/messages/log-chunk';
import { actorOf, createTestAppDeps } from '../../../../../test/support/app-deps.js';
import { openLogStream, type LogStreamClient } from '../../../../../test/support/log-stream-client.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  useTestDatabase,
} from '../../../../../test/support/test-context.js';
import { readExecutionLog } from '../../app/read-execution-log.js';
import { createAuthenticator } from '../../http/auth.js';
import { createApp } from '../../http/create-app.js';
import { signTestToken, TEST_SECRET } from '../../http/test-tokens.js';
import { storeLogChunks } from '../store/store-log-chunks.js';
import { LiveLogSubscriptions } from './live-subscriptions.js';
import { createLogStreamServer, type LogStreamServer } from './log-stream-server.js';
import type { LogStreamSettings } from './log-stream-settings.js';

/*
 * The shared set-up of the log stream integration tests (`log-stream-*.int.test.ts`): a database
 * and a broker topology of the file's own, the REST app with the stream server on a free port, and
 * helpers that play the agent, the logs consumer and the outbox relay. Not a test file itself.
 */

let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
/** The live log subscriptions the stream servers share; set by `useLogStreamServer()`'s `beforeAll`. */
export let live: LiveLogSubscriptions;
let amqp: ChannelModel;
let publisher: Channel;

export const SETTINGS: LogStreamSettings = {
  maxBufferedBytes: 64 * 1024,
  pingMs: 30_000,
  pollMs: 100,
  endGraceMs: 300,
  holeWaitMs: 1000,
  pageSize: 200,
};

export interface TestServer {
  baseUrl: string;
  streams: LogStreamServer;
  /** What a replaced process would do: close every stream with 1001, then serve new ones. */
  restartStreams(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServer(settings: LogStreamSettings): Promise<TestServer> {
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

/** The server the tests talk to (with `SETTINGS`); set by `useLogStreamServer()`'s `beforeAll`. */
export let main: TestServer;

/**
 * Registers the file's set-up and teardown: its own database, the broker connections and `main`.
 * Call it once at the top level of a test file, before its tests.
 */
export function useLogStreamServer(): void {
  const database = useTestDatabase();

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
}

export const freshOrg = () => `org-${randomUUID().slice(0, 8)}`;

const NODE_ID = 'n1';
const taskOf = new Map<string, string>();

export async function createExecution(orgId: string): Promise<string> {
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

export function makeLines(from: number, to: number, text = (seq: number) => `line ${seq}`): LogLine[] {
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
export async function store(
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
export async function announce(
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

export async function storeAndAnnounce(executionId: string, lines: LogLine[]): Promise<void> {
  await store(executionId, lines);
  await announce(executionId);
}

/** The stored log as the REST endpoint serves it, for comparison with what the stream sent. */
export async function storedLog(orgId: string, executionId: string, after: number) {
  return readExecutionLog(deps, actorOf(orgId), executionId, { after, limit: 5000 });
}

export async function endExecution(
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

export const tokenFor = (orgId: string, permissions?: string[]) => signTestToken({ orgId, permissions });
export const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);
export const gapsOf = (frames: readonly LogStreamFrame[]) => frames.filter((frame) => frame.type === 'gap');
export const endOf = (frames: readonly LogStreamFrame[]) => frames.find((frame) => frame.type === 'end');

/**
 * Waits until the broker routes the execution's live lines to this process. A stream subscribes
 * when its socket opens but binds asynchronously (before the live queue even exists, for the first
 * stream of a file), and the store may drop the middle of a long log before the stream reads it:
 * a test that wants every line live announces nothing before this.
 */
export async function untilLiveBound(executionId: string): Promise<void> {
  // Joins the stream's watch (it subscribed before its 'open' reached the client): leaving it
  // again keeps the binding.
  const probe = live.subscribe(executionId, () => undefined);
  try {
    if (!(await probe.ready(10_000))) throw new Error(`live lines of ${executionId} not bound in 10 s`);
  } finally {
    probe.unsubscribe();
  }
}

/** A client of `main` following the execution, once the stream receives live lines. */
export async function follow(orgId: string, executionId: string, after?: number): Promise<LogStreamClient> {
  const client = await openLogStream(
    main.baseUrl,
    executionId,
    await tokenFor(orgId),
    after === undefined ? {} : { after },
  );
  await untilLiveBound(executionId);
  return client;
}
