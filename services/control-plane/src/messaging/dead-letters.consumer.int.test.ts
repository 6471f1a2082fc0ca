import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import type { DeadLetterRecord } from '../domain/dead-letter-record.js';
import { ephemeralKeyring } from '../security/command-keyring.js';
import { startDeadLetterConsumers, type DeadLetterConsumers } from './dead-letters.consumer.js';

/** The consumer alone, on a real broker, with a store the test makes fail like an absent database. */
let topology: Topology;
let connection: Connection;
let consumers: DeadLetterConsumers | undefined;
let amqp: ChannelModel;
let channel: ConfirmChannel;
const keyring = ephemeralKeyring();

beforeEach(async () => {
  topology = buildTopology(uniquePrefix());
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
});
afterEach(async () => {
  await consumers?.close();
  consumers = undefined;
  await connection.close();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix);
});

function start(store: (record: DeadLetterRecord) => Promise<unknown>): Promise<void> {
  consumers = startDeadLetterConsumers({
    connection,
    topology,
    logger: pino({ level: 'silent' }),
    bodyMaxBytes: 1024,
    store,
    verifyKeys: keyring.verifyKeys,
    retryDelayMs: { first: 10, max: 50 },
  });
  return Promise.all(
    consumers.consumers.map((consumer) => new Promise((resolve) => consumer.once('ready', resolve))),
  ).then(() => undefined);
}

async function deadLetter(routingKey: string, body: string, reason = 'schema: bad'): Promise<string> {
  const messageId = randomUUID();
  channel.publish(topology.deadLetterExchange, routingKey, Buffer.from(body), {
    messageId,
    type: 'TaskStarted',
    persistent: true,
    contentType: 'application/json',
    headers: { [DEAD_LETTER_REASON_HEADER]: reason, 'x-meridian-original-routing-key': 'TaskStarted' },
  });
  await channel.waitForConfirms();
  return messageId;
}

const connectionRefused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('dead-letter consumers', () => {
  it('record what lands on either dead-letter queue, with its reason, and ack it', async () => {
    const stored: DeadLetterRecord[] = [];
    await start((record) => Promise.resolve(void stored.push(record)));
    const events = await deadLetter(topology.agentEventsDeadLetterKey, '{"type":"TaskStarted"}');
    const logs = await deadLetter(topology.logsDeadLetterKey, 'not json', 'unparseable');
    await waitFor(() => stored.length === 2, { description: 'two dead letters stored' });
    const byId = new Map(stored.map((record) => [record.messageId, record]));
    expect(byId.get(events)).toMatchObject({
      queue: topology.agentEventsDeadLetterQueue,
      originalExchange: topology.agentEventsExchange,
      originalRoutingKey: 'TaskStarted',
      reason: 'schema: bad',
    });
    expect(byId.get(logs)).toMatchObject({
      queue: topology.logsDeadLetterQueue,
      originalExchange: topology.logsExchange,
      reason: 'unparseable',
      body: Buffer.from('not json'),
    });
    await waitFor(async () => (await channel.checkQueue(topology.logsDeadLetterQueue)).messageCount === 0);
  });

  it('keep a dead letter unacked while the database is away and store it once it is back', async () => {
    let attempts = 0;
    const stored: DeadLetterRecord[] = [];
    await start((record) => {
      attempts += 1;
      if (attempts <= 5) return Promise.reject(connectionRefused());
      stored.push(record);
      return Promise.resolve();
    });
    const messageId = await deadLetter(topology.agentEventsDeadLetterKey, '{}');
    await waitFor(() => stored.length === 1, { description: 'the dead letter stored after the outage' });
    expect(attempts).toBe(6);
    expect(stored[0]!.messageId).toBe(messageId);
    // Kept unacked, never requeued: the broker handed it out once.
    expect(consumers!.consumers[0]!.stats.requeued).toBe(0);
    await waitFor(
      async () => (await channel.checkQueue(topology.agentEventsDeadLetterQueue)).messageCount === 0,
    );
  });

  it('hand an unstored dead letter back to the queue when closed during an outage', async () => {
    let attempts = 0;
    await start(() => {
      attempts += 1;
      return Promise.reject(connectionRefused());
    });
    await deadLetter(topology.agentEventsDeadLetterKey, '{}');
    await waitFor(() => attempts >= 3, { description: 'a few attempts' });
    await consumers!.close();
    consumers = undefined;
    await waitFor(
      async () => (await channel.checkQueue(topology.agentEventsDeadLetterQueue)).messageCount === 1,
      {
        description: 'the dead letter back in its queue',
      },
    );
  });
});
