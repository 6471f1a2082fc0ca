import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { enrolledEventKey, enrolledLogKey } from '@meridian/contracts/security/node-identity';
import { actorOf, createTestAppDeps } from '../../../../test/support/app-deps.js';
import { startPrivateRabbitMq, type PrivateRabbitMq } from '../../../../test/support/private-rabbitmq.js';
import { findFreePort } from '../../../../test/support/processes.js';
import { useTestDatabase, waitFor } from '../../../../test/support/test-context.js';
import { createBrokerManagement } from '../messaging/broker-management.js';
import { findCredential } from '../persistence/node-credentials.js';
import type { AppDeps } from './app-deps.js';
import { createEnrollment } from './enrollment/create-enrollment.js';
import { enrollNode } from './enrollment/enroll-node.js';
import { revokeNode } from './revoke-node.js';
import { syncDueCredentials } from './sync-node-credentials.js';

/**
 * The credentials sync against a real broker's management API (a private broker: the shared one
 * has no management plugin): what an enrolled node's user may and may not do is RabbitMQ's answer.
 */
const database = useTestDatabase();
let broker: PrivateRabbitMq;
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let admin: ChannelModel;
let sink: string;
const connections: ChannelModel[] = [];

beforeAll(async () => {
  broker = await startPrivateRabbitMq({ management: true });
  deps = await createTestAppDeps(database.url);
  deps.brokerManagement = createBrokerManagement({ url: broker.managementUrl!, vhost: '/' });
  admin = await connect(broker.url);
  const channel = await admin.createChannel();
  const t = deps.topology;
  await channel.assertExchange(t.commandsExchange, 'direct');
  await channel.assertExchange(t.agentEventsExchange, 'topic');
  await channel.assertExchange(t.logsExchange, 'topic');
  sink = (await channel.assertQueue('', { exclusive: true })).queue;
  await channel.bindQueue(sink, t.agentEventsExchange, '#');
  await channel.bindQueue(sink, t.logsExchange, '#');
});
afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await deps?.dataSource.destroy();
  await broker?.destroy();
});

async function enrolled(using: AppDeps = deps): Promise<AgentCredentials> {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const created = await createEnrollment(using, actorOf(orgId, ['node:admin']), {
    nodeId: `node-${randomUUID().slice(0, 8)}`,
    labels: {},
    expiresInSeconds: 3600,
    maxUses: 1,
  });
  return enrollNode(using, { token: created.token });
}

function urlOf(credentials: AgentCredentials): string {
  const { username, password } = credentials.broker;
  return `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${broker.port}`;
}

async function login(credentials: AgentCredentials): Promise<ChannelModel> {
  const connection = await connect(urlOf(credentials));
  connection.on('error', () => undefined); // a forced close is asserted through 'close'
  connections.push(connection);
  return connection;
}

/** Runs `action` on a channel of its own; resolves the broker's refusal, or 'ok'. */
async function outcome<C extends Channel>(open: () => Promise<C>, action: (channel: C) => Promise<unknown>) {
  const channel = await open();
  channel.on('error', () => undefined);
  try {
    await action(channel);
    await channel.close();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}

function publish(exchange: string, key: string, userId: string) {
  return (channel: ConfirmChannel) =>
    new Promise<void>((resolve, reject) => {
      channel.once('close', () => reject(new Error('channel closed')));
      channel.once('error', reject);
      channel.publish(exchange, key, Buffer.from('{}'), { userId, persistent: true }, (error) =>
        error ? reject(error as Error) : resolve(),
      );
    });
}

describe('a synced node user', () => {
  it('consumes its own queues and publishes with its own keys and user_id; the broker refuses the rest', async () => {
    const a = await enrolled();
    const b = await enrolled();
    const t = deps.topology;
    const userA = a.broker.username;
    const connection = await login(a);
    const channel = await connection.createChannel();

    // Its queues exist and are bound: a command published by the control plane reaches it.
    const received: string[] = [];
    await channel.checkQueue(t.nodeWorkQueue(a.nodeId));
    await channel.consume(t.nodeWorkQueue(a.nodeId), (message) => {
      if (message) received.push(message.content.toString());
    });
    await channel.consume(t.nodeControlQueue(a.nodeId), () => undefined);
    const adminChannel = await admin.createConfirmChannel();
    adminChannel.publish(t.commandsExchange, t.nodeWorkKey(a.nodeId), Buffer.from('work for a'));
    await adminChannel.waitForConfirms();
    await waitFor(() => received.includes('work for a'), { description: 'a command on its work queue' });

    const plain = () => connection.createChannel();
    const confirm = () => connection.createConfirmChannel();
    expect(await outcome(plain, (c) => c.consume(t.nodeWorkQueue(b.nodeId), () => undefined))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to queue '.*\.node\.node-[^.]+\.work'/,
    );
    expect(await outcome(plain, (c) => c.consume(t.nodeControlQueue(b.nodeId), () => undefined))).toMatch(
      /ACCESS-REFUSED/,
    );
    expect(await outcome(plain, (c) => c.assertQueue(`${userA}.mine`))).toMatch(/ACCESS-REFUSED/);
    expect(
      await outcome(plain, (c) =>
        c.bindQueue(t.nodeWorkQueue(a.nodeId), t.commandsExchange, t.nodeWorkKey(b.nodeId)),
      ),
    ).toMatch(/ACCESS-REFUSED/);

    const ownKey = enrolledEventKey(userA, 'TaskCompleted');
    expect(await outcome(confirm, publish(t.agentEventsExchange, ownKey, userA))).toBe('ok');
    expect(await outcome(confirm, publish(t.logsExchange, enrolledLogKey(userA), userA))).toBe('ok');
    expect(
      await outcome(
        confirm,
        publish(t.agentEventsExchange, enrolledEventKey(b.broker.username, 'TaskCompleted'), userA),
      ),
    ).toMatch(/403 \(ACCESS-REFUSED\).*access to topic/);
    expect(await outcome(confirm, publish(t.logsExchange, enrolledLogKey(b.broker.username), userA))).toMatch(
      /ACCESS-REFUSED/,
    );
    expect(await outcome(confirm, publish(t.agentEventsExchange, ownKey, b.broker.username))).toMatch(
      /406 \(PRECONDITION-FAILED\).*user_id property set to/,
    );
    expect(await outcome(confirm, publish(t.commandsExchange, t.nodeWorkKey(b.nodeId), userA))).toMatch(
      /ACCESS-REFUSED/,
    );

    // What it published arrives with the broker-validated sender.
    const check = await admin.createChannel();
    const senders = new Set<string | undefined>();
    await waitFor(async () => {
      const message = await check.get(sink, { noAck: true });
      if (message) senders.add(message.properties.userId as string | undefined);
      return senders.size > 0 && message === false;
    });
    expect([...senders]).toEqual([userA]);
  });
});

describe('revocation', () => {
  it('closes the node’s connection and deletes its user and queues within 5 s', async () => {
    const a = await enrolled();
    const connection = await login(a);
    await (await connection.createChannel()).consume(deps.topology.nodeWorkQueue(a.nodeId), () => undefined);
    let closed = false;
    connection.once('close', () => (closed = true));
    const started = Date.now();

    await revokeNode(deps, actorOf(a.orgId, ['node:admin']), a.nodeId);
    await waitFor(() => closed, { timeoutMs: 5000, description: 'the revoked node’s connection to close' });
    expect(Date.now() - started).toBeLessThan(5000);

    const management = new URL(broker.managementUrl!);
    const get = (path: string) =>
      fetch(`http://${management.host}${path}`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
    expect((await get(`/api/users/${encodeURIComponent(a.broker.username)}`)).status).toBe(404);
    expect(
      (await get(`/api/queues/%2F/${encodeURIComponent(deps.topology.nodeWorkQueue(a.nodeId))}`)).status,
    ).toBe(404);
    await expect(connect(urlOf(a))).rejects.toThrow(/ACCESS-REFUSED/);
    expect(await findCredential(deps.dataSource, a.nodeId)).toMatchObject({ version: 2, syncedVersion: 2 });
  });
});

describe('the credentials sync', () => {
  it('retries with backoff while the management API is down, then provisions the user', async () => {
    const deadPort = await findFreePort();
    const down: AppDeps = {
      ...deps,
      brokerManagement: createBrokerManagement({
        url: `http://guest:guest@127.0.0.1:${deadPort}`,
        vhost: '/',
      }),
    };
    const a = await enrolled(down);
    const row = await findCredential(deps.dataSource, a.nodeId);
    expect(row).toMatchObject({ version: 1, syncedVersion: 0, syncAttempts: 1 });
    expect(row!.lastSyncError).toMatch(/did not answer .*ECONNREFUSED/);
    expect(row!.lastSyncError).not.toContain('guest:guest');
    await expect(connect(urlOf(a))).rejects.toThrow(/ACCESS-REFUSED/);

    // Still down at the retry time: a second failure, a longer wait.
    deps.clock.set(row!.nextSyncAt);
    expect(await syncDueCredentials(down, 10)).toBe(1);
    const again = await findCredential(deps.dataSource, a.nodeId);
    expect(again).toMatchObject({ syncedVersion: 0, syncAttempts: 2 });
    expect(again!.nextSyncAt.getTime()).toBeGreaterThan(deps.clock.now().getTime());

    // Back up: nothing is done before the retry time, then the user is provisioned.
    expect(await syncDueCredentials(deps, 10)).toBe(0);
    deps.clock.set(again!.nextSyncAt);
    expect(await syncDueCredentials(deps, 10)).toBe(1);
    expect(await findCredential(deps.dataSource, a.nodeId)).toMatchObject({
      syncedVersion: 1,
      syncAttempts: 0,
      lastSyncError: null,
    });
    const connection = await login(a);
    await (await connection.createChannel()).checkQueue(deps.topology.nodeControlQueue(a.nodeId));
  });
});
