import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SERVER_STATE_CHANGED,
  ServerStateChangedSchema,
  type ServerStateChanged,
} from '@meridian/contracts/api/node-server';
import { createTestAppDeps, heartbeat } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  getMessage,
  testAmqpUrl,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { recordAgentMessages } from '../app/record-agent-messages.js';
import { serverReport } from '../http/nodes/node-servers.fixture.js';
import { controlPlaneDeclarations } from './broker-topology.js';
import { relayOutboxBatch } from './outbox-relay.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let publisher: Publisher;
let amqp: ChannelModel;
const queues: string[] = [];

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  // Declared as the control plane's publisher declares them: the events exchange among them.
  publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 1,
    exchanges: controlPlaneDeclarations(deps.topology).exchanges,
  });
  amqp = await connect(testAmqpUrl());
});
afterAll(async () => {
  await publisher.close();
  await connection.close();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix, { queues });
  await deps.dataSource.destroy();
});

/** A queue of the test's own bound to the events exchange, as a consumer of server events would. */
async function subscriber(): Promise<string> {
  const queue = `${deps.topology.prefix}.server-events-${randomBytes(3).toString('hex')}`;
  queues.push(queue);
  await connection.exchangeDeclare({ exchange: deps.topology.eventsExchange, type: 'topic', durable: true });
  await connection.queueDeclare({ queue, durable: false, exclusive: false, autoDelete: false });
  await connection.queueBind({
    queue,
    exchange: deps.topology.eventsExchange,
    routingKey: SERVER_STATE_CHANGED,
  });
  return queue;
}

async function relayAll(): Promise<void> {
  const options = {
    batchSize: 100,
    publishTimeoutMs: 5_000,
    retryDelayMs: () => 60_000,
    commandSigning: { key: deps.keyring.signing, ttlSeconds: 60, now: () => new Date() },
    logger: pino({ level: 'silent' }),
  };
  while ((await relayOutboxBatch(deps.dataSource, publisher, new Map(), options)).published > 0);
}

/** The events the queue holds for `serverId`, read until `count` have come (then the queue is drained). */
async function eventsOf(queue: string, count: number): Promise<ServerStateChanged[]> {
  const events: ServerStateChanged[] = [];
  await waitFor(
    async () => {
      const message = await getMessage(amqp, queue);
      if (message) {
        expect(message.properties.type).toBe(SERVER_STATE_CHANGED);
        const event = ServerStateChangedSchema.parse(JSON.parse(message.content.toString('utf8')));
        expect(message.properties.messageId).toBe(event.eventId);
        events.push(event);
      }
      return events.length >= count;
    },
    { description: `${count} server.state_changed events in ${queue}` },
  );
  return events;
}

async function queueIsEmpty(queue: string): Promise<boolean> {
  return (await connection.queueDeclare({ queue, passive: true })).messageCount === 0;
}

describe('server.state_changed', () => {
  it('is published once per change of a server’s state, however often a heartbeat repeats it', async () => {
    const queue = await subscriber();
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    const starting = serverReport('mc-1', { state: 'starting', changedAt: '2026-06-01T12:00:00.000Z' });
    const beat = heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers: [starting] });

    await recordAgentMessages(deps, [beat]);
    // The same message delivered again, and a later heartbeat that repeats the state.
    await recordAgentMessages(deps, [beat]);
    await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers: [starting] })]);
    await relayAll();
    const [first] = await eventsOf(queue, 1);
    expect(first).toMatchObject({ orgId, nodeId, serverId: 'mc-1', previousState: null, state: 'starting' });

    const running = serverReport('mc-1', { state: 'running', changedAt: '2026-06-01T12:00:02.000Z' });
    // Two copies of the change in one batch, and a late heartbeat with the old state.
    await recordAgentMessages(deps, [
      heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers: [running] }),
      heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers: [running] }),
    ]);
    await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers: [starting] })]);
    await relayAll();
    const [second] = await eventsOf(queue, 1);
    expect(second).toMatchObject({
      serverId: 'mc-1',
      previousState: 'starting',
      state: 'running',
      pid: 4242,
      occurredAt: '2026-06-01T12:00:02.000Z',
    });
    expect(await queueIsEmpty(queue)).toBe(true);
    const queued: { count: string }[] = await deps.dataSource.query(
      `SELECT count(*) FROM outbox WHERE exchange = $1 AND body->>'orgId' = $2`,
      [deps.topology.eventsExchange, orgId],
    );
    expect(Number(queued[0]?.count)).toBe(2);
  });

  it('is not published for a heartbeat refused for its node (another organisation’s node id)', async () => {
    const queue = await subscriber();
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    const owner = `org-${randomUUID().slice(0, 8)}`;
    await recordAgentMessages(deps, [heartbeat(nodeId, owner, 2, deps.clock.now())]);
    const intruder = `org-${randomUUID().slice(0, 8)}`;
    await recordAgentMessages(deps, [
      heartbeat(nodeId, intruder, 2, deps.clock.now(), { servers: [serverReport('mc-x')] }),
    ]);
    const rows: unknown[] = await deps.dataSource.query(`SELECT 1 FROM node_servers WHERE org_id = $1`, [
      intruder,
    ]);
    expect(rows).toEqual([]);
    await relayAll();
    expect(await queueIsEmpty(queue)).toBe(true);
  });
});
