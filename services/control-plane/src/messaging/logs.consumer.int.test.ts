import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

import { storeReceivedLogChunks } from '../logs/store/store-log-chunks.js';

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
/** Chunks of these executions fail as if the database were away, this many more times each. */
const unreachableFor = new Map<string, number>();

function refusedConnection(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
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
    keyring: deps.keyring,
    prefetch: 50,
    batchSize: 20,
    logger: pino({ level: 'silent' }),
    retryDelaysMs: { min: 10, max: 100 },
    store: (chunks) => {
      for (const { message: chunk } of chunks) {
        const left = unreachableFor.get(chunk.payload.executionId) ?? 0;
        if (left > 0) {
          unreachableFor.set(chunk.payload.executionId, left - 1);
          return Promise.reject(refusedConnection());
        }
      }
      return chunks.some(({ message: chunk }) => failing.has(chunk.payload.executionId))
        ? Promise.reject(new Error('the store refused it'))
        : storeReceivedLogChunks(deps, chunks, { maxBytes: 65_536 });
    },
  });
  await new Promise<void>((resolve) => logs.consumer.once('ready', resolve));
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
  // The publisher declares the dead-letter queue with its first message; tests may read it before.
  const { queue, durable, arguments: args } = declarations.logsDeadLetterQueue;
  await channel.assertQueue(queue, { durable, arguments: args });
  await channel.bindQueue(queue, deps.topology.deadLetterExchange, deps.topology.logsDeadLetterKey);
});

afterAll(async () => {
  await logs?.close();
  await publisher?.close();
  await connection?.close();
  await channel?.close();
  await amqp?.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix);
  await deps.dataSource.destroy();
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
    const before = logs.stats();
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
    const after = logs.stats();
    expect({
      deadLettered: after.deadLettered - before.deadLettered,
      ignored: after.ignored - before.ignored,
      lines: after.lines - before.lines,
    }).toEqual({ deadLettered: 2, ignored: 1, lines: 2 });
  });

  it('dead-letters a chunk that fails on its own, alone, and stores the others', async () => {
    const bad = await runningExecution();
    const good = [await runningExecution(), await runningExecution()];
    failing.add(bad.executionId);
    const line = (text: string) => ({ seq: 1, stream: 'stdout', ts: new Date().toISOString(), text });
    for (const run of [good[0]!, bad, good[1]!]) {
      await publishRaw(
        envelope(run.nodeId, {
          taskId: run.taskId,
          executionId: run.executionId,
          lines: [line(run.executionId)],
        }),
      );
    }
    const parked = await waitFor(
      async () => (await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true })) || undefined,
      { description: 'the failing chunk to be parked' },
    );
    expect(String(parked.properties.headers?.[DEAD_LETTER_REASON_HEADER])).toBe(
      'not stored: Error: the store refused it',
    );
    expect(JSON.parse(parked.content.toString('utf8'))).toMatchObject({
      payload: { executionId: bad.executionId },
    });
    for (const run of good) {
      await waitFor(
        async () =>
          (await readExecutionLog(deps, actorOf(run.orgId), run.executionId, { after: 0, limit: 10 })).items
            .length === 1,
        { description: 'the good chunks to be stored' },
      );
    }
    expect(await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true })).toBe(false);
    expect(logs.consumer.stats.requeued).toBe(0);
  });

  it('holds a chunk while the database is away and stores it when it answers, never requeued', async () => {
    const run = await runningExecution();
    unreachableFor.set(run.executionId, 4);
    const line = { seq: 1, stream: 'stdout', ts: new Date().toISOString(), text: 'stored late' };
    await publishRaw(
      envelope(run.nodeId, { taskId: run.taskId, executionId: run.executionId, lines: [line] }),
    );
    await waitFor(
      async () =>
        (await readExecutionLog(deps, actorOf(run.orgId), run.executionId, { after: 0, limit: 10 })).items
          .length === 1,
      { description: 'the chunk to be stored once the database answers' },
    );
    expect(unreachableFor.get(run.executionId)).toBe(0);
    expect(logs.consumer.stats.requeued).toBe(0);
    expect(await channel.get(deps.topology.logsDeadLetterQueue, { noAck: true })).toBe(false);
  });
});
