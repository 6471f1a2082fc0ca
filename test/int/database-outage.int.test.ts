import { Writable } from 'node:stream';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { DELIVERY_LIMIT, topology as buildTopology } from '@meridian/contracts/topology';
import { readExecutionLog } from '@meridian/control-plane/app/read-execution-log';
import { recordReceivedMessages } from '@meridian/control-plane/app/record-agent-messages';
import { createAuthenticator } from '@meridian/control-plane/http/auth';
import { createApp } from '@meridian/control-plane/http/create-app';
import { signTestToken, TEST_SECRET } from '@meridian/control-plane/http/test-tokens';
import { storeReceivedLogChunks } from '@meridian/control-plane/logs/store/store-log-chunks';
import {
  startAgentEventsConsumer,
  type AgentEventsConsumer,
} from '@meridian/control-plane/messaging/agent-events.consumer';
import { controlPlaneDeclarations } from '@meridian/control-plane/messaging/broker-topology';
import { startLogsConsumer, type LogsConsumer } from '@meridian/control-plane/messaging/logs.consumer';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { TaskEntity } from '@meridian/control-plane/persistence/entities/task.entity';
import { actorOf, createTestAppDeps, dispatchedExecution, report } from '../support/app-deps.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { deleteBrokerObjects, testAmqpUrl, uniquePrefix, waitFor } from '../support/test-context.js';

/*
 * The database goes away while reports and log chunks arrive: the consumers hold them (no requeue,
 * no dead letter, however long the outage) and apply every one when it is back; the API answers
 * 503 meanwhile. On a PostgreSQL of this file's own, stopped and started again.
 */

let postgres: PrivatePostgres;
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let publisher: Publisher;
let events: AgentEventsConsumer;
let logs: LogsConsumer;
let amqp: ChannelModel;
let channel: ConfirmChannel;
/** Log lines of the consumers (debug): retries are counted from them. */
const logLines: string[] = [];

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  await runMigrations(postgres.url);
  deps = await createTestAppDeps(postgres.url);
  deps.topology = buildTopology(uniquePrefix());
  const declarations = controlPlaneDeclarations(deps.topology);
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  publisher = connection.createPublisher({
    confirm: true,
    exchanges: declarations.exchanges,
    queues: [
      declarations.agentEventsQueue,
      declarations.deadLetterQueue,
      declarations.logsQueue,
      declarations.logsDeadLetterQueue,
    ],
    queueBindings: declarations.queueBindings,
  });
  const retryDelaysMs = { min: 50, max: 500 };
  events = startAgentEventsConsumer({
    connection,
    publisher,
    topology: deps.topology,
    keyring: deps.keyring,
    prefetch: 100,
    batchSize: 20,
    logger,
    retryDelaysMs,
    record: (messages) => recordReceivedMessages(deps, messages),
  });
  logs = startLogsConsumer({
    connection,
    publisher,
    topology: deps.topology,
    keyring: deps.keyring,
    prefetch: 100,
    batchSize: 20,
    logger,
    retryDelaysMs,
    store: (chunks) => storeReceivedLogChunks(deps, chunks, { maxBytes: 65_536 }),
  });
  await Promise.all([
    new Promise<void>((resolve) => events.consumer.once('ready', resolve)),
    new Promise<void>((resolve) => logs.consumer.once('ready', resolve)),
  ]);
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
  for (const [queue, key] of [
    [declarations.deadLetterQueue, deps.topology.agentEventsDeadLetterKey],
    [declarations.logsDeadLetterQueue, deps.topology.logsDeadLetterKey],
  ] as const) {
    await channel.assertQueue(queue.queue, { durable: true, arguments: queue.arguments });
    await channel.bindQueue(queue.queue, deps.topology.deadLetterExchange, key);
  }
}, 120_000);

afterAll(async () => {
  try {
    await events?.close();
    await logs?.close();
    await publisher?.close();
    await connection?.close();
    await channel?.close();
    await amqp?.close();
    if (deps) await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix);
    await deps?.dataSource.destroy();
  } finally {
    await postgres?.destroy();
  }
});

async function publish(exchange: string, routingKey: string, messages: unknown[]) {
  for (const message of messages) {
    const { messageId } = message as { messageId: string };
    channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(message)), {
      contentType: 'application/json',
      messageId,
      persistent: true,
    });
  }
  await channel.waitForConfirms();
}

function logChunk(run: { taskId: string; executionId: string; nodeId: string }, seq: number) {
  return {
    messageId: crypto.randomUUID(),
    type: 'LogChunk',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'outage',
    nodeId: run.nodeId,
    payload: {
      taskId: run.taskId,
      executionId: run.executionId,
      lines: [{ seq, stream: 'stdout', ts: new Date().toISOString(), text: `line ${seq}` }],
    },
  };
}

const retriesLogged = () =>
  logLines.filter((line) => line.includes('transient failure; trying again')).length;

async function statuses(taskIds: string[]) {
  const rows = await deps.dataSource.getRepository(TaskEntity).findBy(taskIds.map((id) => ({ id })));
  return rows.map((row) => row.status);
}

async function deadLetterCount(queue: string): Promise<number> {
  return (await channel.checkQueue(queue)).messageCount;
}

describe('a database outage', () => {
  it('holds every report and log chunk while the database is down and applies them when it is back: none dead-lettered', async () => {
    const runs = [];
    for (let i = 0; i < 8; i += 1) runs.push(await dispatchedExecution(deps));
    const taskIds = runs.map((run) => run.taskId);
    const { agentEventsExchange, logsExchange } = deps.topology;
    const sent = (messages: AgentMessage[]) => publish(agentEventsExchange, 'report', messages);
    await sent(runs.map((run) => report('TaskStarted', run, 1)));
    await waitFor(async () => (await statuses(taskIds)).every((status) => status === 'Running'), {
      description: 'every task to run',
    });

    await postgres.stopImmediate();
    await sent(runs.map((run) => report('TaskCompleted', run, 2, { exitCode: 0, durationMs: 10 })));
    await publish(
      logsExchange,
      'log',
      runs.map((run) => logChunk(run, 1)),
    );
    // Consumption pauses, and each held batch is tried again more often than the delivery limit
    // would have allowed a requeued message: none of it may be dead-lettered for that.
    await waitFor(() => events.waitingForDatabase() > 0 && logs.waitingForDatabase() > 0, {
      description: 'both consumers to wait for the database',
    });
    await waitFor(() => retriesLogged() > 2 * (DELIVERY_LIMIT + 1), {
      timeoutMs: 30_000,
      description: 'retries past the delivery limit',
    });
    expect(events.consumer.stats.requeued + logs.consumer.stats.requeued).toBe(0);

    await postgres.start();
    await waitFor(async () => (await statuses(taskIds)).every((status) => status === 'Completed'), {
      timeoutMs: 30_000,
      description: 'every task to complete once the database is back',
    });
    for (const run of runs) {
      await waitFor(
        async () =>
          (await readExecutionLog(deps, actorOf(run.orgId), run.executionId, { after: 0, limit: 10 })).items
            .length === 1,
        { description: `the log line of ${run.executionId}` },
      );
    }
    await waitFor(() => events.waitingForDatabase() === 0 && logs.waitingForDatabase() === 0, {
      description: 'the consumers to resume',
    });
    expect(await deadLetterCount(deps.topology.agentEventsDeadLetterQueue)).toBe(0);
    expect(await deadLetterCount(deps.topology.logsDeadLetterQueue)).toBe(0);
    expect(events.consumer.stats.requeued + logs.consumer.stats.requeued).toBe(0);
    expect(logLines.some((line) => line.includes('consumption resumed'))).toBe(true);
    // No statement, parameter or message body in what was logged meanwhile.
    expect(logLines.join('\n')).not.toMatch(/INSERT|UPDATE executions|line 1"|unnest/);
  });

  it('answers 503 with Retry-After and a problem body while the database is down, and 200 when it is back', async () => {
    const app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
    const token = await signTestToken({ orgId: 'org-outage' });
    const list = () => app.request('/api/v1/tasks', { headers: { Authorization: `Bearer ${token}` } });
    expect((await list()).status).toBe(200);

    await postgres.stopImmediate();
    try {
      const response = await list();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        type: '/problems/unavailable',
        status: 503,
        detail: expect.stringMatching(/database is unavailable/) as unknown,
      });
    } finally {
      await postgres.start();
    }
    await waitFor(async () => (await list()).status === 200, { description: 'the API to answer again' });
  });
});
