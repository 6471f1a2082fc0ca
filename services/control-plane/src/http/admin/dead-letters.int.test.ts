import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BulkRedriveResult,
  DeadLetter,
  DeadLetterList,
  DeadLetterSummary,
} from '@meridian/contracts/api/dead-letter';
import { topology as buildTopology, type Topology } from '@meridian/contracts/topology';
import {
  actorOf,
  createTestAppDeps,
  heartbeat,
  ManualClock,
  report,
} from '../../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../../../../../test/support/test-context.js';
import { createTask } from '../../app/create-task.js';
import { dispatchPendingTasks } from '../../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { loadConfig } from '../../config.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane.js';
import { TaskEntity } from '../../persistence/entities/task.entity.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

/**
 * The whole control plane in this process, on the real PostgreSQL and RabbitMQ: agent messages go
 * through its consumers to the dead-letter queues, its dead-letter consumer, its API and its outbox.
 */
const database = useTestDatabase();
const nodeIds: string[] = [];
let topology: Topology;
let controlPlane: RunningControlPlane;
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let amqp: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  topology = buildTopology(uniquePrefix());
  const config = loadConfig({
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    TOPOLOGY_PREFIX: topology.prefix,
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: TEST_SECRET,
    POLL_INTERVAL_MS: '100',
    DB_POOL_SIZE: '6',
    LOG_LEVEL: 'silent',
  });
  controlPlane = await startControlPlane(config, pino({ level: 'silent' }));
  // Test fixtures write with the same prefix and a clock at the real time (the running deadline sweep reads it).
  deps = await createTestAppDeps(database.url, new ManualClock(new Date()));
  deps.topology = topology;
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
});
afterAll(async () => {
  await controlPlane.stop();
  await deps.dataSource.destroy();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix, { nodeIds });
});

const ADMIN = ['admin:dead-letters', 'task:read'];
const PLATFORM = ['admin:dead-letters', 'platform:dead-letters'];

async function api(
  method: string,
  path: string,
  orgId: string,
  options: { permissions?: string[]; body?: unknown } = {},
): Promise<Response> {
  const token = await signTestToken({ orgId, permissions: options.permissions ?? ADMIN });
  return fetch(`http://127.0.0.1:${controlPlane.port}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/**
 * A dispatched execution in an organisation of its own, on a node whose work queue exists (nobody
 * consumes it): its ExecuteTask is routed, not returned. The running control plane's dispatcher
 * may be the one that dispatches it.
 */
async function execution() {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  nodeIds.push(nodeId);
  await channel.assertQueue(topology.nodeWorkQueue(nodeId), { durable: true });
  await channel.bindQueue(
    topology.nodeWorkQueue(nodeId),
    topology.commandsExchange,
    topology.nodeWorkKey(nodeId),
  );
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, new Date())]);
  const task = await createTask(deps, actorOf(orgId), {
    type: 'Command',
    name: 'print',
    priority: 'Normal',
    targetType: 'Node',
    targetId: nodeId,
    nodeId,
    payload: { command: ['echo', 'hi'] },
    metadata: {},
  });
  await dispatchPendingTasks(deps, 100);
  const executionId = await waitFor(
    async () =>
      (await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id })).currentExecutionId,
    { description: 'the task dispatched' },
  );
  return { orgId, nodeId, taskId: task.id, executionId };
}

async function publish(exchange: string, routingKey: string, body: string, messageId: string = randomUUID()) {
  channel.publish(exchange, routingKey, Buffer.from(body), {
    messageId,
    type: routingKey,
    persistent: true,
    contentType: 'application/json',
  });
  await channel.waitForConfirms();
  return messageId;
}

/** For `waitFor`: the items once there are any. */
const nonEmpty = <T>(items: T[]): T[] | undefined => (items.length > 0 ? items : undefined);

async function deadLettersOf(
  orgId: string,
  query: string,
  permissions = ADMIN,
): Promise<DeadLetterSummary[]> {
  return (
    await json<DeadLetterList>(await api('GET', `/admin/dead-letters?${query}`, orgId, { permissions }), 200)
  ).items;
}

async function executionStatus(executionId: string): Promise<string> {
  const [row] = await deps.dataSource.query<{ status: string }[]>(
    `SELECT status FROM executions WHERE id = $1`,
    [executionId],
  );
  return row!.status;
}

describe('dead letters', () => {
  it('a malformed report is dead-lettered and listed for its organisation; re-driven, it lands again as a new row', async () => {
    const ref = await execution();
    const envelope = report('TaskStarted', ref, 0);
    const bad = JSON.stringify({ ...envelope, payload: { ...envelope.payload, sequence: 'first' } });
    const messageId = await publish(topology.agentEventsExchange, 'TaskStarted', bad, envelope.messageId);

    const [listed] = await waitFor(() => deadLettersOf(ref.orgId, `type=TaskStarted`).then(nonEmpty), {
      description: 'the dead letter listed',
    });
    expect(listed).toMatchObject({
      orgId: ref.orgId,
      queue: topology.agentEventsDeadLetterQueue,
      messageType: 'TaskStarted',
      messageId,
      originalExchange: topology.agentEventsExchange,
      originalRoutingKey: 'TaskStarted',
      bodySize: Buffer.byteLength(bad),
      bodyTruncated: false,
      redrivenAt: null,
    });
    expect(listed!.reason).toMatch(/sequence/);

    const full = await json<DeadLetter>(
      await api('GET', `/admin/dead-letters/${listed!.id}`, ref.orgId),
      200,
    );
    expect(full).toMatchObject({ body: bad, bodyEncoding: 'utf8' });
    expect(full.headers['x-meridian-dead-letter-reason']).toBe(listed!.reason);

    const redriven = await json<DeadLetterSummary>(
      await api('POST', `/admin/dead-letters/${listed!.id}/redrive`, ref.orgId),
      200,
    );
    expect(redriven.redrivenAt).not.toBeNull();
    expect(redriven.redrivenBy).toBe('user:user-1');
    const again = await api('POST', `/admin/dead-letters/${listed!.id}/redrive`, ref.orgId);
    expect(again.status).toBe(409);
    expect(again.headers.get('Content-Type')).toBe('application/problem+json');

    // Still bad: it comes back, as a new row with the same messageId.
    const [landedAgain] = await waitFor(() => deadLettersOf(ref.orgId, 'redriven=false').then(nonEmpty), {
      description: 'the re-driven message dead-lettered again',
    });
    expect(landedAgain).toMatchObject({ messageId, redrivenAt: null });
    expect(landedAgain!.id).not.toBe(listed!.id);
    expect((await deadLettersOf(ref.orgId, 'redriven=true')).map((item) => item.id)).toEqual([listed!.id]);
  });

  it('a report the database refuses lands as a dead letter; re-driven once the cause is gone, it is applied', async () => {
    const ref = await execution();
    // The cause: this execution's row cannot be updated.
    const fn = `refuse_${ref.executionId.replaceAll('-', '')}`;
    await deps.dataSource.query(
      `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.id = '${ref.executionId}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
    );
    await deps.dataSource.query(
      `CREATE TRIGGER ${fn} BEFORE UPDATE ON executions FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    );
    const started = report('TaskStarted', ref, 0);
    await publish(topology.agentEventsExchange, 'TaskStarted', JSON.stringify(started), started.messageId);

    const [listed] = await waitFor(() => deadLettersOf(ref.orgId, 'type=TaskStarted').then(nonEmpty), {
      description: 'the refused report dead-lettered',
      timeoutMs: 30_000,
    });
    expect(listed).toMatchObject({ messageId: started.messageId, orgId: ref.orgId });
    // Parked by the broker past the delivery limit, or by the consumer with the error.
    expect(listed!.reason).toMatch(
      /^broker: delivery_limit on \S+control-plane.agent-events$|refused by the test/,
    );
    expect(await executionStatus(ref.executionId)).toBe('Dispatched');

    await deps.dataSource.query(`DROP TRIGGER ${fn} ON executions`);
    await deps.dataSource.query(`DROP FUNCTION ${fn}()`);
    const bulk = await json<BulkRedriveResult>(
      await api('POST', '/admin/dead-letters/redrive', ref.orgId, {
        body: { ids: [listed!.id, randomUUID()] },
      }),
      200,
    );
    expect(bulk.redriven).toBe(1);
    expect(bulk.results).toEqual([
      { id: listed!.id, outcome: 'redriven' },
      { id: expect.any(String) as string, outcome: 'not_found' },
    ]);
    await waitFor(async () => (await executionStatus(ref.executionId)) === 'Running', {
      description: 'the re-driven report applied',
    });
  });

  it('keeps organisations apart (404), and needs admin:dead-letters (403)', async () => {
    const ref = await execution();
    const envelope = report('TaskFailed', ref, 0);
    await publish(topology.agentEventsExchange, 'TaskFailed', JSON.stringify({ ...envelope, payload: {} }));
    const [mine] = await waitFor(() => deadLettersOf(ref.orgId, 'type=TaskFailed').then(nonEmpty));
    const other = `org-${randomUUID().slice(0, 8)}`;

    expect((await api('GET', `/admin/dead-letters/${mine!.id}`, other)).status).toBe(404);
    expect((await api('POST', `/admin/dead-letters/${mine!.id}/redrive`, other)).status).toBe(404);
    expect(await deadLettersOf(other, '')).toEqual([]);
    const bulk = await json<BulkRedriveResult>(
      await api('POST', '/admin/dead-letters/redrive', other, { body: { ids: [mine!.id] } }),
      200,
    );
    expect(bulk).toEqual({ redriven: 0, results: [{ id: mine!.id, outcome: 'not_found' }] });

    for (const [method, path] of [
      ['GET', '/admin/dead-letters'],
      ['GET', `/admin/dead-letters/${mine!.id}`],
      ['POST', `/admin/dead-letters/${mine!.id}/redrive`],
      ['POST', '/admin/dead-letters/redrive'],
    ] as const) {
      const response = await api(method, path, ref.orgId, {
        permissions: ['task:read', 'task:write'],
        body: method === 'POST' ? {} : undefined,
      });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.text()).toMatch(/admin:dead-letters/);
    }
  });

  it('shows dead letters that name no organisation only with platform:dead-letters; bulk re-drive by filter is bounded', async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const ids = [];
    for (let i = 0; i < 3; i += 1)
      ids.push(await publish(topology.logsExchange, 'node.ghost', `not json ${i}`));
    const query = `queue=${encodeURIComponent(topology.logsDeadLetterQueue)}&redriven=false`;
    const listed = await waitFor(
      () => deadLettersOf(orgId, query, PLATFORM).then((items) => (items.length === 3 ? items : undefined)),
      { description: 'three log dead letters' },
    );
    expect(listed.map((item) => item.orgId)).toEqual([null, null, null]);
    expect(new Set(listed.map((item) => item.messageId))).toEqual(new Set(ids));
    expect(await deadLettersOf(orgId, query)).toEqual([]);
    expect((await api('GET', `/admin/dead-letters/${listed[0]!.id}`, orgId)).status).toBe(404);

    const filter = { filter: { queue: topology.logsDeadLetterQueue }, limit: 2 };
    const first = await json<BulkRedriveResult>(
      await api('POST', '/admin/dead-letters/redrive', orgId, { permissions: PLATFORM, body: filter }),
      200,
    );
    expect(first.redriven).toBe(2);
    expect(first.results.every((result) => result.outcome === 'redriven')).toBe(true);
    const withoutPlatform = await json<BulkRedriveResult>(
      await api('POST', '/admin/dead-letters/redrive', orgId, { body: filter }),
      200,
    );
    expect(withoutPlatform).toEqual({ redriven: 0, results: [] });

    const oversized = await api('POST', '/admin/dead-letters/redrive', orgId, {
      permissions: PLATFORM,
      body: { filter: {}, limit: 1001 },
    });
    expect(oversized.status).toBe(400);
  });
});
