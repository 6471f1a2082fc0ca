import { randomBytes, randomUUID } from 'node:crypto';
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import { connect } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher, type ReturnedMessage } from 'rabbitmq-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppDeps } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { startTcpProxy, type TcpProxy } from '../../../../agent/src/testing/tcp-proxy.js';
import { enqueueOutboxMessages } from '../persistence/outbox.writes.js';
import { createBrokerConnection } from './broker-connection.js';
import { relayOutboxBatch, type RelayOptions, type ReturnedCommand } from './outbox-relay.js';
import { startOutboxRelay } from './start-outbox-relay.js';

const database = useTestDatabase();
const silent = pino({ level: 'silent' });
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
const exchange = () => deps.topology.commandsExchange;
const cleanup: { queues: string[]; exchanges: string[] } = { queues: [], exchanges: [] };

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  await connection.exchangeDeclare({ exchange: exchange(), type: 'direct', durable: true });
  cleanup.exchanges.push(exchange());
});
afterEach(async () => {
  // Each test's rows are its own: none is left for the next test's relay to claim.
  await deps.dataSource.query(`DELETE FROM outbox`);
});
afterAll(async () => {
  await connection.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix, cleanup);
  await deps.dataSource.destroy();
});

/** A durable queue of the test's own, bound to the commands exchange with `routingKey`. */
async function boundQueue(routingKey: string, args: Record<string, unknown> = {}): Promise<string> {
  const queue = `${deps.topology.prefix}.relay-${randomBytes(3).toString('hex')}`;
  cleanup.queues.push(queue);
  await connection.queueDeclare({ queue, durable: true, arguments: args });
  await connection.queueBind({ queue, exchange: exchange(), routingKey });
  return queue;
}

function row(type: string, routingKey: string, target = exchange()) {
  const messageId = randomUUID();
  return {
    messageId,
    exchange: target,
    routingKey,
    type,
    correlationId: 'c',
    body: { messageId, type, nodeId: 'n', payload: {} },
  };
}

async function enqueue(...rows: ReturnType<typeof row>[]): Promise<void> {
  await deps.dataSource.transaction((manager) => enqueueOutboxMessages(manager, rows));
}

interface StoredRow {
  message_id: string;
  published: boolean;
  attempts: number;
  last_error: string | null;
  due_in_ms: number;
}

async function stored(messageId: string): Promise<StoredRow | undefined> {
  const rows: StoredRow[] = await deps.dataSource.query(
    `SELECT message_id, published_at IS NOT NULL AS published, attempts, last_error,
            extract(epoch FROM next_attempt_at - now()) * 1000 AS due_in_ms
       FROM outbox WHERE message_id = $1`,
    [messageId],
  );
  return rows[0] ? { ...rows[0], due_in_ms: Number(rows[0].due_in_ms) } : undefined;
}

async function makeDue(messageId: string): Promise<void> {
  await deps.dataSource.query(`UPDATE outbox SET next_attempt_at = now() WHERE message_id = $1`, [messageId]);
}

/** Message ids in `queue`, read until `count` have arrived. */
async function receive(queue: string, count: number): Promise<string[]> {
  const amqp = await connect(testAmqpUrl());
  try {
    const channel = await amqp.createChannel();
    const ids: string[] = [];
    await waitFor(async () => {
      const message = await channel.get(queue, { noAck: true });
      if (message) ids.push(String(message.properties.messageId));
      return ids.length >= count;
    });
    await channel.close();
    return ids.sort();
  } finally {
    await amqp.close();
  }
}

function confirmingPublisher(returned?: Map<string, ReturnedCommand>): Publisher {
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
  publisher.on('basic.return', (message: ReturnedMessage) =>
    returned?.set(message.messageId ?? '', {
      messageId: message.messageId ?? '',
      type: message.type ?? '',
      routingKey: message.routingKey,
      body: message.body as ReturnedCommand['body'],
    }),
  );
  return publisher;
}

const options = (overrides: Partial<RelayOptions> = {}): RelayOptions => ({
  batchSize: 100,
  publishTimeoutMs: 5000,
  retryDelayMs: () => 60_000,
  logger: silent,
  ...overrides,
});

describe('outbox relay with a real broker', () => {
  it('publishes committed rows with confirms, keeps commands as sent, deletes live-log notifications, reports returns', async () => {
    const queue = await boundQueue('bound');
    const command = row('ExecuteTask', 'bound');
    const notification = row('LogLinesStored', 'bound');
    const unroutable = row('ExecuteTask', 'nobody-listens');
    await enqueue(command, notification, unroutable);
    const returned = new Map<string, ReturnedCommand>();
    const publisher = confirmingPublisher(returned);
    try {
      const result = await relayOutboxBatch(deps.dataSource, publisher, returned, options());
      expect(result).toMatchObject({ published: 3, failed: 0 });
      expect(result.returned.map((r) => r.messageId)).toEqual([unroutable.messageId]);
      expect(await relayOutboxBatch(deps.dataSource, publisher, returned, options())).toEqual({
        published: 0,
        failed: 0,
        returned: [],
      });
    } finally {
      await publisher.close();
    }
    expect(await stored(command.messageId)).toMatchObject({ published: true, attempts: 1 });
    expect(await stored(unroutable.messageId)).toMatchObject({ published: true });
    expect(await stored(notification.messageId)).toBeUndefined();
    expect(await receive(queue, 2)).toEqual([command.messageId, notification.messageId].sort());
  });

  it('leaves a row the broker refuses (nack) unsent with its error and backoff, marks the confirmed rows beside it, and sends it once due', async () => {
    // A queue that holds nothing and refuses what it cannot hold: the broker nacks every publish to it.
    const full = await boundQueue('full', { 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    const open = await boundQueue('open');
    const refused = row('ExecuteTask', 'full');
    const accepted = [row('ExecuteTask', 'open'), row('CancelTask', 'open')];
    await enqueue(accepted[0]!, refused, accepted[1]!);
    const publisher = confirmingPublisher();
    try {
      const delays: number[] = [];
      const first = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        new Map(),
        options({ retryDelayMs: (failures) => (delays.push(failures), 60_000) }),
      );
      expect(first).toMatchObject({ published: 2, failed: 1, retryInMs: 60_000 });
      expect(delays).toEqual([1]);
      for (const message of accepted) {
        expect(await stored(message.messageId)).toMatchObject({ published: true, attempts: 1 });
      }
      const left = await stored(refused.messageId);
      expect(left).toMatchObject({ published: false, attempts: 1 });
      expect(left?.last_error).toMatch(/NACK/);
      expect(left?.due_in_ms).toBeGreaterThan(50_000);

      // Not due yet: the claim skips it.
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 0,
        failed: 0,
      });

      // Due, still refused: a second failure, counted for the backoff.
      await makeDue(refused.messageId);
      const second = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        new Map(),
        options({ retryDelayMs: (failures) => (delays.push(failures), 60_000) }),
      );
      expect(second).toMatchObject({ published: 0, failed: 1 });
      expect(delays).toEqual([1, 2]);
      expect(await stored(refused.messageId)).toMatchObject({ published: false, attempts: 2 });

      // The broker takes it again: once due, it is sent.
      await connection.queueDelete({ queue: full });
      const repaired = await boundQueue('full');
      await makeDue(refused.messageId);
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 1,
        failed: 0,
      });
      expect(await stored(refused.messageId)).toMatchObject({ published: true, attempts: 3 });
      expect(await receive(repaired, 1)).toEqual([refused.messageId]);
      expect(await receive(open, 2)).toEqual(accepted.map((m) => m.messageId).sort());
    } finally {
      await publisher.close();
    }
  });

  it('leaves every row unsent when the broker closes the channel (no such exchange), and sends them once it exists', async () => {
    const missing = `${deps.topology.prefix}.missing-${randomBytes(3).toString('hex')}`;
    cleanup.exchanges.push(missing);
    const lost = row('ExecuteTask', 'here', missing);
    await enqueue(lost);
    const publisher = confirmingPublisher();
    try {
      const first = await relayOutboxBatch(deps.dataSource, publisher, new Map(), options());
      expect(first).toMatchObject({ published: 0, failed: 1 });
      const left = await stored(lost.messageId);
      expect(left).toMatchObject({ published: false, attempts: 1 });
      expect(left?.last_error).toMatch(/NOT_FOUND|no exchange/i);

      await connection.exchangeDeclare({ exchange: missing, type: 'direct', durable: true });
      const queue = `${deps.topology.prefix}.relay-${randomBytes(3).toString('hex')}`;
      cleanup.queues.push(queue);
      await connection.queueDeclare({ queue, durable: true });
      await connection.queueBind({ queue, exchange: missing, routingKey: 'here' });
      await makeDue(lost.messageId);
      // The same publisher: it opens a new channel for the next send.
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 1,
        failed: 0,
      });
      expect(await stored(lost.messageId)).toMatchObject({ published: true, attempts: 2 });
      expect(await receive(queue, 1)).toEqual([lost.messageId]);
    } finally {
      await publisher.close();
    }
  });

  it('counts a publish the client refuses (a closed publisher) as failed', async () => {
    const message = row('ExecuteTask', 'bound');
    await enqueue(message);
    const publisher = confirmingPublisher();
    await publisher.close();
    const result = await relayOutboxBatch(deps.dataSource, publisher, new Map(), options());
    expect(result).toMatchObject({ published: 0, failed: 1 });
    expect((await stored(message.messageId))?.last_error).toMatch(/closed/);
  });
});

describe('outbox relay loop through a broker outage', () => {
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    proxy?.restore();
    await proxy?.close();
    proxy = undefined;
  });

  it('claims nothing while the broker is away and sends what waited as soon as it is back', async () => {
    const brokerUrl = new URL(testAmqpUrl());
    proxy = await startTcpProxy({ host: brokerUrl.hostname, port: Number(brokerUrl.port || 5672) });
    const proxied = new URL(brokerUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const proxiedConnection = createBrokerConnection(proxied.toString(), silent);
    const publisher = proxiedConnection.createPublisher({ confirm: true, maxAttempts: 1 });
    const queue = await boundQueue('outage');
    const relay = startOutboxRelay({
      dataSource: deps.dataSource,
      connection: proxiedConnection,
      publisher,
      logger: silent,
      batchSize: 100,
      concurrency: 2,
      // No polling within the test's time: only wakes (NOTIFY is not listened to here) move it.
      intervalMs: 600_000,
      publishTimeoutMs: 5000,
      random: () => 0.5,
      onReturned: () => Promise.resolve(),
    });
    try {
      await waitFor(() => proxiedConnection.ready, { description: 'the relay connection' });
      const before = row('ExecuteTask', 'outage');
      await enqueue(before);
      relay.wake();
      await waitFor(async () => (await stored(before.messageId))?.published, {
        description: 'the first row sent',
      });

      proxy.cut();
      await waitFor(() => !proxiedConnection.ready, { description: 'the connection to drop' });
      const during = row('ExecuteTask', 'outage');
      await enqueue(during);
      for (let i = 0; i < 5; i++) relay.wake();
      await waitFor(() => proxy!.refused >= 2, { description: 'two reconnect attempts' });
      // While the broker is away the relay does not claim the row: no attempt, no backoff.
      expect(await stored(during.messageId)).toMatchObject({ published: false, attempts: 0 });

      proxy.restore();
      // Woken by the reconnect: the poll interval is far beyond this wait.
      await waitFor(async () => (await stored(during.messageId))?.published, {
        timeoutMs: 15_000,
        description: 'the row sent after the broker returned',
      });
      expect(await stored(during.messageId)).toMatchObject({ attempts: 1 });
      expect(await receive(queue, 2)).toEqual([before.messageId, during.messageId].sort());
    } finally {
      await relay.stop(false);
      await publisher.close();
      await proxiedConnection.close();
    }
  });
});

/**
 * A proxy that can hold every byte sent to the broker (a stalled network: the socket stays open, the
 * broker hears nothing and confirms nothing) and pass them on later.
 */
async function startStallingProxy(target: { host: string; port: number }) {
  let stalled = false;
  const held: { to: Socket; data: Buffer }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connectTcp(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (data: Buffer) => (stalled ? held.push({ to: upstream, data }) : upstream.write(data)));
    upstream.on('data', (data: Buffer) => client.write(data));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stall: () => void (stalled = true),
    release: () => {
      stalled = false;
      for (const { to, data } of held.splice(0)) to.write(data);
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('outbox relay and a stalled network', () => {
  it('gives up on a publish the broker does not confirm in time, leaving the row unsent, and sends it later', async () => {
    const broker = new URL(testAmqpUrl());
    const proxy = await startStallingProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    const proxied = new URL(broker);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const stalledConnection = new Connection({ url: proxied.toString(), noDelay: true });
    const publisher = stalledConnection.createPublisher({ confirm: true, maxAttempts: 1 });
    const queue = await boundQueue('stalled');
    const message = row('ExecuteTask', 'stalled');
    try {
      await stalledConnection.onConnect(5000);
      await publisher.send({ exchange: exchange(), routingKey: 'warm-up' }, {}); // channel set up
      await enqueue(message);
      proxy.stall();
      const result = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        new Map(),
        options({ publishTimeoutMs: 300 }),
      );
      expect(result).toMatchObject({ published: 0, failed: 1 });
      expect((await stored(message.messageId))?.last_error).toMatch(
        /no confirm from the broker within 300 ms/,
      );

      // The network comes back: the held publish reaches the broker after all, and the row, still
      // unsent, goes out again once due. At least once: the queue may hold it twice.
      proxy.release();
      await makeDue(message.messageId);
      expect(await relayOutboxBatch(deps.dataSource, publisher, new Map(), options())).toMatchObject({
        published: 1,
      });
      const received = await receive(queue, 2);
      expect(new Set(received)).toEqual(new Set([message.messageId]));
    } finally {
      proxy.release();
      await publisher.close();
      await stalledConnection.close();
      await proxy.close();
    }
  });
});
