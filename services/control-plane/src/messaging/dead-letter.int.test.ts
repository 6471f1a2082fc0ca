import { randomUUID } from 'node:crypto';
import { connect, type GetMessage } from 'amqplib';
import { Connection, ConsumerStatus, type AsyncMessage } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_REASON_HEADER,
  topology as buildTopology,
  type Topology,
} from '@meridian/contracts/topology';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  waitFor,
} from '../../../../test/support/test-context.js';
import {
  BODY_TRUNCATED_HEADER,
  DEAD_LETTER_LIMITS,
  headersSize,
  ORIGINAL_ROUTING_KEY_HEADER,
  ORIGINAL_SIZE_HEADER,
} from './dead-letter-headers.js';
import { controlPlaneDeclarations } from './broker-topology.js';
import { createDeadLetterPublisher, deadLetter } from './dead-letter.js';

let topology: Topology;
let connection: Connection;
/** Sends what a hostile client could: its frames may be as large as the broker allows. */
let hostile: Connection;
const source = () => `${topology.prefix}.hostile-source`;
const commands = () => `${topology.prefix}.commands-sink`;

beforeAll(async () => {
  topology = buildTopology(uniquePrefix());
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  hostile = new Connection({ url: testAmqpUrl(), frameMax: 131_072 });
  await connection.queueDeclare({ queue: source(), durable: true });
  await connection.exchangeDeclare({ exchange: topology.commandsExchange, type: 'direct', durable: true });
  await connection.queueDeclare({ queue: commands(), durable: true });
  await connection.queueBind({
    queue: commands(),
    exchange: topology.commandsExchange,
    routingKey: 'node.n.work',
  });
  // In the control plane the dead-letter store's consumer declares and binds it at start-up.
  await connection.exchangeDeclare({ exchange: topology.deadLetterExchange, type: 'direct', durable: true });
  await connection.queueDeclare(controlPlaneDeclarations(topology).deadLetterQueue);
  await connection.queueBind({
    queue: topology.agentEventsDeadLetterQueue,
    exchange: topology.deadLetterExchange,
    routingKey: topology.agentEventsDeadLetterKey,
  });
});
afterAll(async () => {
  await hostile.close();
  await connection.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix, {
    queues: [source(), commands(), topology.agentEventsDeadLetterQueue, topology.logsDeadLetterQueue],
    exchanges: [topology.commandsExchange, topology.deadLetterExchange],
  });
});

/** Every message now in `queue`, read with basic.get until `count` have come. */
async function drain(queue: string, count: number): Promise<GetMessage[]> {
  const amqp = await connect(testAmqpUrl());
  try {
    const channel = await amqp.createChannel();
    const messages: GetMessage[] = [];
    await waitFor(
      async () => {
        for (let message = await channel.get(queue, { noAck: true }); message;) {
          messages.push(message);
          message = await channel.get(queue, { noAck: true });
        }
        return messages.length >= count;
      },
      { description: `${count} messages in ${queue}` },
    );
    await channel.close();
    return messages;
  } finally {
    await amqp.close();
  }
}

describe('dead-lettering with a real broker', () => {
  it('parks hostile messages with bounded headers while commands go out undisturbed on their own channel', async () => {
    const deadLetters = createDeadLetterPublisher(connection, topology);
    const commandPublisher = connection.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [{ exchange: topology.commandsExchange, type: 'direct', durable: true }],
    });
    const target = { exchange: topology.deadLetterExchange, routingKey: topology.agentEventsDeadLetterKey };
    const hostilePublisher = hostile.createPublisher({ confirm: true });
    const bigHeaderId = randomUUID();
    const hugeBodyId = randomUUID();
    const failures: unknown[] = [];
    const consumer = connection.createConsumer(
      { queue: source(), queueOptions: { durable: true }, qos: { prefetchCount: 10 }, requeue: false },
      async (message: AsyncMessage) => {
        try {
          // What a consumer says of an unknown type of 10,000 characters.
          await deadLetter(deadLetters, target, message, `unknown message type ${'T'.repeat(10_000)}`);
        } catch (error) {
          failures.push(error);
          throw error;
        }
        return ConsumerStatus.ACK;
      },
    );
    try {
      await hostilePublisher.send(
        {
          routingKey: source(),
          messageId: bigHeaderId,
          type: 'X'.repeat(255), // the longest an AMQP type can be
          headers: { 'x-big': 'h'.repeat(9 * 1024), 'x-small': 'kept', 'x-nested': { deep: [1, 2, 3] } },
        },
        Buffer.from('{"type":"TaskStarted"}'),
      );
      await hostilePublisher.send(
        { routingKey: source(), messageId: hugeBodyId, type: 'TaskCompleted' },
        Buffer.alloc(10 * 1024 * 1024, 0x61),
      );
      // Commands published while the dead letters are being written, on the command publisher.
      const sent = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          commandPublisher.send(
            {
              exchange: topology.commandsExchange,
              routingKey: 'node.n.work',
              messageId: `command-${i}`,
              durable: true,
            },
            { i },
          ),
        ),
      );
      expect(sent.filter((outcome) => outcome.status === 'rejected')).toEqual([]);

      const parked = await drain(topology.agentEventsDeadLetterQueue, 2);
      expect(failures).toEqual([]);
      const byId = new Map(parked.map((message) => [message.properties.messageId as string, message]));

      const big = byId.get(bigHeaderId)!;
      const headers = big.properties.headers as Record<string, unknown>;
      expect(headersSize(headers)).toBeLessThanOrEqual(DEAD_LETTER_LIMITS.headersBytes);
      expect(Buffer.byteLength(String(headers[DEAD_LETTER_REASON_HEADER]))).toBeLessThanOrEqual(1000);
      expect(String(headers[DEAD_LETTER_REASON_HEADER])).toMatch(/^unknown message type TTT/);
      expect(headers[ORIGINAL_ROUTING_KEY_HEADER]).toBe(source());
      expect(headers[ORIGINAL_SIZE_HEADER]).toBe(22);
      expect(headers['x-small']).toBe('kept');
      expect(Buffer.byteLength(String(headers['x-big']))).toBeLessThanOrEqual(
        DEAD_LETTER_LIMITS.headerValueBytes,
      );
      expect(headers).not.toHaveProperty('x-nested');
      expect(Buffer.byteLength(String(big.properties.type))).toBeLessThanOrEqual(
        DEAD_LETTER_LIMITS.typeBytes,
      );
      expect(big.content.toString()).toBe('{"type":"TaskStarted"}');

      const huge = byId.get(hugeBodyId)!;
      const hugeHeaders = huge.properties.headers as Record<string, unknown>;
      expect(hugeHeaders[ORIGINAL_SIZE_HEADER]).toBe(10 * 1024 * 1024);
      expect(hugeHeaders[BODY_TRUNCATED_HEADER]).toBe(true);
      expect(huge.content.length).toBe(DEAD_LETTER_LIMITS.truncatedBodyBytes);
      expect(huge.properties.type).toBe('TaskCompleted');

      const delivered = await drain(commands(), 200);
      expect(new Set(delivered.map((m) => m.properties.messageId as string)).size).toBe(200);
    } finally {
      await consumer.close();
      await hostilePublisher.close();
      await commandPublisher.close();
      await deadLetters.close();
    }
  });
  it('keeps command publishes apart from a dead letter the broker refuses (its channel closes, not theirs)', async () => {
    const deadLetters = createDeadLetterPublisher(connection, topology);
    const commandPublisher = connection.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [{ exchange: topology.commandsExchange, type: 'direct', durable: true }],
    });
    // A message as a consumer receives it; the target exchange does not exist: NOT_FOUND closes the channel.
    const message = {
      body: Buffer.from('{}'),
      routingKey: 'TaskStarted',
      messageId: randomUUID(),
      headers: {},
    } as unknown as AsyncMessage;
    const nowhere = { exchange: `${topology.prefix}.no-such-exchange`, routingKey: 'x' };
    try {
      const [refused, ...sent] = await Promise.allSettled([
        deadLetter(deadLetters, nowhere, message, 'refused'),
        ...Array.from({ length: 100 }, (_, i) =>
          commandPublisher.send(
            {
              exchange: topology.commandsExchange,
              routingKey: 'node.n.work',
              messageId: `isolated-${i}`,
              durable: true,
            },
            { i },
          ),
        ),
      ]);
      expect(refused?.status).toBe('rejected');
      expect(sent.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const delivered = await drain(commands(), 100);
      expect(delivered.filter((m) => String(m.properties.messageId).startsWith('isolated-'))).toHaveLength(
        100,
      );
    } finally {
      await commandPublisher.close();
      await deadLetters.close();
    }
  });
});
