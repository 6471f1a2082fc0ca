import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import { Connection } from 'rabbitmq-client';
import { afterEach, describe, expect, it } from 'vitest';
import { testAmqpUrl, waitFor } from '../../../../test/support/test-context.js';
import { startTcpProxy, type TcpProxy } from '../../../../agent/src/testing/tcp-proxy.js';
import { createBrokerConnection } from './broker-connection.js';
import { relayOutboxBatch } from './outbox-relay.js';
import { startOutboxRelay } from './start-outbox-relay.js';
import {
  boundQueue,
  commandSigning,
  deps,
  enqueue,
  exchange,
  makeDue,
  options,
  receive,
  row,
  silent,
  stored,
  useRelayFixture,
} from './outbox-relay.fixture.js';

useRelayFixture();

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
      commandSigning: commandSigning(),
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
