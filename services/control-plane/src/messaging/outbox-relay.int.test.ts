import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import pino from 'pino';
import { Connection, type ReturnedMessage } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppDeps } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { enqueueOutboxMessages } from '../persistence/outbox.writes.js';
import { relayOutboxBatch, type ReturnedCommand } from './outbox-relay.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
const returned = new Map<string, ReturnedCommand>();
const exchange = () => deps.topology.commandsExchange;
const queue = () => `${deps.topology.prefix}.relay-test`;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  const channel = await connection.acquire();
  await channel.exchangeDeclare({ exchange: exchange(), type: 'direct', durable: true });
  await channel.queueDeclare({ queue: queue(), durable: true });
  await channel.queueBind({ queue: queue(), exchange: exchange(), routingKey: 'bound' });
  await channel.close();
});
afterAll(async () => {
  await connection.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix, {
    queues: [queue()],
    exchanges: [exchange()],
  });
  await deps.dataSource.destroy();
});

function row(type: string, routingKey: string) {
  const messageId = randomUUID();
  return {
    messageId,
    exchange: exchange(),
    routingKey,
    type,
    correlationId: 'c',
    body: { messageId, type, nodeId: 'n', payload: {} },
  };
}

describe('outbox relay with a real broker', () => {
  it('publishes committed rows with confirms, keeps commands as sent, deletes live-log notifications, reports returns', async () => {
    const command = row('ExecuteTask', 'bound');
    const notification = row('LogLinesStored', 'bound');
    const unroutable = row('ExecuteTask', 'nobody-listens');
    await deps.dataSource.transaction((manager) =>
      enqueueOutboxMessages(manager, [command, notification, unroutable]),
    );
    const publisher = connection.createPublisher({ confirm: true });
    publisher.on('basic.return', (message: ReturnedMessage) =>
      returned.set(message.messageId ?? '', {
        messageId: message.messageId ?? '',
        type: message.type ?? '',
        routingKey: message.routingKey,
        body: message.body as ReturnedCommand['body'],
      }),
    );
    try {
      const result = await relayOutboxBatch(
        deps.dataSource,
        publisher,
        returned,
        100,
        pino({ level: 'silent' }),
      );
      expect(result.published).toBe(3);
      expect(result.returned.map((r) => r.messageId)).toEqual([unroutable.messageId]);
    } finally {
      await publisher.close();
    }
    const rows: { message_id: string; published: boolean }[] = await deps.dataSource.query(
      `SELECT message_id, published_at IS NOT NULL AS published FROM outbox ORDER BY id`,
    );
    expect(rows).toEqual([
      { message_id: command.messageId, published: true },
      { message_id: unroutable.messageId, published: true },
    ]);
    const amqp = await connect(testAmqpUrl());
    try {
      const channel = await amqp.createChannel();
      const ids: string[] = [];
      await waitFor(async () => {
        const message = await channel.get(queue(), { noAck: true });
        if (message) ids.push(String(message.properties.messageId));
        return ids.length >= 2;
      });
      expect(ids.sort()).toEqual([command.messageId, notification.messageId].sort());
      await channel.close();
    } finally {
      await amqp.close();
    }
    expect(
      await relayOutboxBatch(
        deps.dataSource,
        connection.createPublisher({ confirm: true }),
        returned,
        100,
        pino({ level: 'silent' }),
      ),
    ).toEqual({ published: 0, returned: [] });
  });
});
