import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_REASON_HEADER, topology as buildTopology } from '@meridian/contracts/topology';
import { actorOf, createTestAppDeps, dispatchedExecution } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';

import { readExecutionLog } from '../app/read-execution-log.js';

import { storeLogChunks } from '../logs/store/store-log-chunks.js';

import { controlPlaneDeclarations } from './broker-topology.js';
import { startLogsConsumer, type LogsConsumer } from './logs.consumer.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let publisher: Publisher;
let logs: LogsConsumer;
let amqp: ChannelModel;
let channel: ConfirmChannel;
/** Chunks of these executions make the store fail, as a database that refuses them would. */
const failing = new Set<string>();

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
});

afterAll(async () => {
  await channel?.close();
  await amqp?.close();
  await deps?.dataSource.destroy();
});

// Each test has a broker namespace and a consumer of its own, so that neither the queues nor the
// consumer's stats carry over from the test that ran before.
beforeEach(async () => {
  deps.topology = buildTopology(uniquePrefix());
  const declarations = controlPlaneDeclarations(deps.topology);
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  publisher = connection.createPublisher({
    confirm: true,
    exchanges: declarations.exchanges,
    queues: [declarations.logsQueue, declarations.logsDeadLetterQueue],
    queueBindings: declarations.queueBindings.filter(
      (b) => b.queue === deps.topology.logsQueue || b.queue === deps.topology.logsDeadLetterQueue,
    ),
  });
  logs = startLogsConsumer({
    connection,
    publisher,
    topology: deps.topology,
    prefetch: 50,
    batchSize: 20,
    logger: pino({ level: 'silent' }),
    store: (chunks) =>
      chunks.some((chunk) => failing.has(chunk.payload.executionId))
        ? Promise.reject(new Error('the store refused it'))
        : storeLogChunks(deps, chunks, { maxBytes: 65_536 }),
  });
  await new Promise<void>((resolve) => logs.consumer.once('ready', resolve));
  // The publisher declares the dead-letter queue on its first send, which may come after a test
  // first reads that queue (reading a queue that does not exist closes the channel).
  await connection.queueDeclare(declarations.logsDeadLetterQueue);
  await connection.queueBind({
    queue: deps.topology.logsDeadLetterQueue,
    exchange: deps.topology.deadLetterExchange,
    routingKey: deps.topology.logsDeadLetterKey,
  });
});

afterEach(async () => {
  await logs?.consumer.close();
  await logs?.drain();
  await publisher?.close();
  await connection?.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix);
});

/** Publishes bytes to the logs exchange as an agent (or a buggy one) would. */
async function publishRaw(body: string, nodeId = 'node-x') {
  channel.publish(deps.topology.logsExchange, deps.topology.logKey(nodeId), Buffer.from(body), {
    contentType: 'application/json',
    messageId: randomUUID(),
    persistent: true,
  });
  await channel.waitForConfirms();
}

function envelope(nodeId: string, payload: unknown) {
  return JSON.stringify({
    messageId: randomUUID(),
    type: 'LogChunk',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'corr-broker',
    nodeId,
    payload,
  });
}

function runningExecution() {
  return dispatchedExecution(deps);
}

describe('logs consumer on the real broker', () => {
  it('dead-letters a malformed message with its reason, ignores another node’s chunk, and stores the good chunk after them', async () => {
    const run = await runningExecution();
    const line = (seq: number) => ({
      seq,
      stream: 'stdout',
      ts: new Date().toISOString(),
      text: `hello ${seq}`,
    });
    await publishRaw('{ not json', run.nodeId);
    await publishRaw(envelope(run.nodeId, { taskId: run.taskId, executionId: run.executionId, lines: [] }));
    await publishRaw(
      envelope('someone-else', { taskId: run.taskId, executionId: run.executionId, lines: [line(1)] }),
    );
    await publishRaw(
      envelope(run.nodeId, { taskId: run.taskId, executionId: run.executionId, lines: [line(1), line(2)] }),
    );

    const page = await waitFor(
      async () => {
        const read = await readExecutionLog(deps, actorOf(run.orgId), run.executionId, {
          after: 0,
          limit: 10,
        });
        return read.items.length === 2 ? read : undefined;
      },
      { description: 'the good chunk to be stored' },
    );
    expect(page.items.map((l) => l.text)).toEqual(['hello 1', 'hello 2']);

    const parked: { reason: string; routingKey: string }[] = [];
    await waitFor(
      async () => {
        const message = await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true });
        if (message) {
          parked.push({
            reason: String(message.properties.headers?.[DEAD_LETTER_REASON_HEADER]),
            routingKey: String(message.properties.headers?.['x-meridian-original-routing-key']),
          });
        }
        return parked.length >= 2;
      },
      { description: 'two dead-lettered chunks' },
    );
    expect(parked[0]!.reason).toMatch(/not valid JSON/);
    expect(parked[0]!.routingKey).toBe(deps.topology.logKey(run.nodeId));
    expect(parked[1]!.reason).toMatch(/invalid LogChunk: payload\.lines/);
    expect(await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true })).toBe(false);
    expect(logs.stats()).toMatchObject({ deadLettered: 2, ignored: 1, lines: 2 });
  });

  it('requeues a chunk the store fails on once, then parks it with the error', async () => {
    const run = await runningExecution();
    failing.add(run.executionId);
    const line = { seq: 1, stream: 'stdout', ts: new Date().toISOString(), text: 'never stored' };
    await publishRaw(
      envelope(run.nodeId, { taskId: run.taskId, executionId: run.executionId, lines: [line] }),
    );
    const parked = await waitFor(
      async () => (await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true })) || undefined,
      { description: 'the failing chunk to be parked' },
    );
    expect(String(parked.properties.headers?.[DEAD_LETTER_REASON_HEADER])).toBe(
      'not stored after a redelivery: the store refused it',
    );
  });
});
