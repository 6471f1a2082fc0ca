/** Shared set-up of the outbox relay's integration tests (a file each: confirms, outages). */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher, type ReturnedMessage } from 'rabbitmq-client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestAppDeps } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { enqueueOutboxMessages } from '../persistence/outbox.writes.js';
import { type CommandSigning, type RelayOptions, type ReturnedCommand } from './outbox-relay.js';

export const silent = pino({ level: 'silent' });
export let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
export let connection: Connection;
export const exchange = () => deps.topology.commandsExchange;
export const cleanup: { queues: string[]; exchanges: string[] } = { queues: [], exchanges: [] };

/** One database, broker connection and commands exchange per test file; rows removed after each test. */
export function useRelayFixture(): void {
  const database = useTestDatabase();
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
}

/** A durable queue of the test's own, bound to the commands exchange with `routingKey`. */
export async function boundQueue(routingKey: string, args: Record<string, unknown> = {}): Promise<string> {
  const queue = `${deps.topology.prefix}.relay-${randomBytes(3).toString('hex')}`;
  cleanup.queues.push(queue);
  await connection.queueDeclare({ queue, durable: true, arguments: args });
  await connection.queueBind({ queue, exchange: exchange(), routingKey });
  return queue;
}

export function row(type: string, routingKey: string, target = exchange()) {
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

export async function enqueue(...rows: ReturnType<typeof row>[]): Promise<void> {
  await deps.dataSource.transaction((manager) => enqueueOutboxMessages(manager, rows));
}

export interface StoredRow {
  message_id: string;
  published: boolean;
  attempts: number;
  last_error: string | null;
  due_in_ms: number;
}

export async function stored(messageId: string): Promise<StoredRow | undefined> {
  const rows: StoredRow[] = await deps.dataSource.query(
    `SELECT message_id, published_at IS NOT NULL AS published, attempts, last_error,
            extract(epoch FROM next_attempt_at - now()) * 1000 AS due_in_ms
       FROM outbox WHERE message_id = $1`,
    [messageId],
  );
  return rows[0] ? { ...rows[0], due_in_ms: Number(rows[0].due_in_ms) } : undefined;
}

export async function makeDue(messageId: string): Promise<void> {
  await deps.dataSource.query(`UPDATE outbox SET next_attempt_at = now() WHERE message_id = $1`, [messageId]);
}

/** Message ids in `queue`, read until `count` have arrived. */
export async function receive(queue: string, count: number): Promise<string[]> {
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

export function confirmingPublisher(returned?: Map<string, ReturnedCommand>): Publisher {
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

/** How the control plane signs commands: the test deps' keyring, the default TTL, the real clock. */
export const commandSigning = (): CommandSigning => ({
  key: deps.keyring.signing,
  ttlSeconds: deps.security.commandTtlSeconds,
  now: () => new Date(),
});

export const options = (overrides: Partial<RelayOptions> = {}): RelayOptions => ({
  batchSize: 100,
  publishTimeoutMs: 5000,
  retryDelayMs: () => 60_000,
  commandSigning: commandSigning(),
  logger: silent,
  ...overrides,
});
