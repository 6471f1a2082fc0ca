import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogLinesStored } from '@meridian/contracts/messages/log-lines-stored';
import { EXCHANGE_TYPES, topology as buildTopology, type Topology } from '@meridian/contracts/topology';
import { startTcpProxy, type TcpProxy } from '../../../../../agent/src/testing/tcp-proxy.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  waitFor,
} from '../../../../../test/support/test-context.js';
import { LiveLogSubscriptions } from './live-subscriptions.js';

const logger = pino({ level: 'silent' });
let topology: Topology;
let amqp: ChannelModel;
let channel: ConfirmChannel;
const returned = new Set<string>();
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  topology = buildTopology(uniquePrefix());
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
  await channel.assertExchange(topology.liveLogsExchange, EXCHANGE_TYPES.liveLogs, { durable: true });
  channel.on('return', (message: { properties: { messageId?: string } }) => {
    if (message.properties.messageId) returned.add(message.properties.messageId);
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await channel.close();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix, {
    queues: [],
    exchanges: [topology.liveLogsExchange],
  });
});

/** A control-plane process's live subscriptions, on a connection of its own (optionally through `url`). */
function startProcess(url = testAmqpUrl()) {
  const connection = new Connection({
    url,
    connectionName: 'live-subscriptions-test',
    retryLow: 50,
    retryHigh: 200,
  });
  connection.on('error', () => undefined); // outages are the point of some tests
  const live = new LiveLogSubscriptions({ connection, topology, logger });
  cleanups.push(async () => {
    await live.close();
    await connection.close();
  });
  return { connection, live };
}

function linesStored(executionId: string, seq: number): LogLinesStored {
  return {
    executionId,
    orgId: 'org-a',
    lines: [{ seq, stream: 'stdout', ts: new Date().toISOString(), text: `line ${seq}` }],
    gaps: [],
  };
}

/** Publishes `LogLinesStored` as `mandatory`; resolves whether the broker routed it to any queue. */
async function publish(
  executionId: string,
  payload: unknown = linesStored(executionId, 1),
): Promise<boolean> {
  const messageId = randomUUID();
  const envelope = {
    messageId,
    type: 'LogLinesStored',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'test',
    nodeId: 'control-plane',
    payload,
  };
  channel.publish(
    topology.liveLogsExchange,
    topology.liveLogKey(executionId),
    Buffer.from(JSON.stringify(envelope)),
    { mandatory: true, messageId, contentType: 'application/json' },
  );
  await channel.waitForConfirms(); // a basic.return comes before the confirm of its message
  return !returned.has(messageId);
}

function collector() {
  const seqs: number[] = [];
  return { seqs, listener: (message: LogLinesStored) => seqs.push(...message.lines.map((line) => line.seq)) };
}

describe('LiveLogSubscriptions', () => {
  it('binds an execution while someone here watches it and unbinds it when the last one leaves', async () => {
    const { live } = startProcess();
    const executionId = randomUUID();
    expect(await publish(executionId)).toBe(false);

    const a = collector();
    const b = collector();
    const first = live.subscribe(executionId, a.listener);
    const second = live.subscribe(executionId, b.listener);
    expect(await first.ready(5000)).toBe(true);
    expect(await second.ready(5000)).toBe(true);
    expect(await publish(executionId, linesStored(executionId, 7))).toBe(true);
    await waitFor(() => a.seqs.length > 0 && b.seqs.length > 0);
    expect([a.seqs, b.seqs]).toEqual([[7], [7]]);

    first.unsubscribe();
    expect(await publish(executionId, linesStored(executionId, 8))).toBe(true);
    await waitFor(() => b.seqs.length === 2);
    expect(a.seqs).toEqual([7]); // no longer listening

    second.unsubscribe();
    await waitFor(async () => !(await publish(executionId)), { description: 'the binding to go' });
    expect(live.watchedExecutions).toBe(0);
  });

  it('delivers each message to every process whose clients watch the execution, and only to them', async () => {
    const one = startProcess();
    const two = startProcess();
    const three = startProcess();
    const executionId = randomUUID();
    const other = randomUUID();
    const [a, b, c] = [collector(), collector(), collector()];
    const subscriptions = [
      one.live.subscribe(executionId, a.listener),
      two.live.subscribe(executionId, b.listener),
      three.live.subscribe(other, c.listener),
    ];
    for (const subscription of subscriptions) expect(await subscription.ready(5000)).toBe(true);

    for (let seq = 1; seq <= 20; seq += 1) await publish(executionId, linesStored(executionId, seq));
    await waitFor(() => a.seqs.length === 20 && b.seqs.length === 20);
    expect(a.seqs).toEqual(b.seqs);
    expect(c.seqs).toEqual([]);
  });

  it('ignores a malformed message and goes on', async () => {
    const { live } = startProcess();
    const executionId = randomUUID();
    const a = collector();
    expect(await live.subscribe(executionId, a.listener).ready(5000)).toBe(true);
    await publish(executionId, { executionId, lines: 'not lines' });
    await publish(executionId, linesStored(executionId, 3));
    await waitFor(() => a.seqs.length === 1);
    expect(a.seqs).toEqual([3]);
  });

  it('declares a new queue and binds every watched execution again when its queue goes', async () => {
    const { connection, live } = startProcess();
    const executionId = randomUUID();
    const a = collector();
    expect(await live.subscribe(executionId, a.listener).ready(5000)).toBe(true);
    const before = live.queueName;
    await connection.queueDelete({ queue: before }); // the consumer is cancelled by the broker
    await waitFor(() => live.queueName !== '' && live.queueName !== before, { description: 'a new queue' });
    await waitFor(() => publish(executionId, linesStored(executionId, 5)), {
      description: 'the binding again',
    });
    await waitFor(() => a.seqs.includes(5));
  });

  it('survives a broker outage: after reconnecting it binds what is watched again', async () => {
    const brokerUrl = new URL(testAmqpUrl());
    const proxy: TcpProxy = await startTcpProxy({
      host: brokerUrl.hostname,
      port: Number(brokerUrl.port || 5672),
    });
    cleanups.push(() => proxy.close());
    const proxied = new URL(brokerUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const { live } = startProcess(proxied.toString());
    const executionId = randomUUID();
    const a = collector();
    expect(await live.subscribe(executionId, a.listener).ready(5000)).toBe(true);
    const before = live.queueName;

    proxy.cut(); // the broker deletes the exclusive queue with its connection
    await waitFor(() => proxy.refused >= 1, { description: 'a reconnect attempt' });
    await waitFor(async () => !(await publish(executionId)), { description: 'the old queue to go' });
    proxy.restore();

    await waitFor(() => live.queueName !== '' && live.queueName !== before, {
      timeoutMs: 15_000,
      description: 'a new queue after the reconnect',
    });
    await waitFor(() => publish(executionId, linesStored(executionId, 9)), {
      description: 'the binding again',
    });
    await waitFor(() => a.seqs.includes(9));
  });
});
