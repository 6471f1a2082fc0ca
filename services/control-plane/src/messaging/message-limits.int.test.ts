import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '@meridian/contracts/json-depth';
import { ERROR_MAX_BYTES } from '@meridian/contracts/messages/limits';
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
import { recordReceivedMessages } from '../app/record-agent-messages.js';
import { storeReceivedLogChunks } from '../logs/store/store-log-chunks.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { NodeEntity } from '../persistence/entities/node.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { startAgentEventsConsumer, type AgentEventsConsumer } from './agent-events.consumer.js';
import { controlPlaneDeclarations } from './broker-topology.js';
import { createDeadLetterPublisher } from './dead-letter.js';
import { startLogsConsumer, type LogsConsumer } from './logs.consumer.js';

/*
 * What agents send past the protocol's limits, through the real broker into the real database:
 * program text is clamped and stored, what a column cannot hold never reaches PostgreSQL, and an
 * end report that stays invalid fails its execution at once instead of at its deadline.
 */

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let publisher: Publisher;
let consumers: (AgentEventsConsumer | LogsConsumer)[] = [];
let amqp: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  deps.topology = buildTopology(uniquePrefix());
  const declarations = controlPlaneDeclarations(deps.topology);
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
  // Every quorum queue is declared here, one at a time, before any consumer starts: on RabbitMQ
  // 3.10 a consume racing another channel's first declaration of a quorum queue closes the whole
  // connection. The consumers then only re-declare what exists; the dead-letter queues (the
  // dead-letter store's, not started here) are read by the test.
  for (const { exchange, type, durable } of declarations.exchanges) {
    await channel.assertExchange(exchange, type, { durable });
  }
  for (const { queue, durable, arguments: args } of [
    declarations.agentEventsQueue,
    declarations.logsQueue,
    declarations.deadLetterQueue,
    declarations.logsDeadLetterQueue,
  ]) {
    await channel.assertQueue(queue, { durable, arguments: args });
  }
  for (const { queue, exchange, routingKey } of declarations.queueBindings) {
    await channel.bindQueue(queue, exchange, routingKey);
  }
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  publisher = createDeadLetterPublisher(connection, deps.topology);
  const logger = pino({ level: 'silent' });
  const retryDelaysMs = { min: 10, max: 100 };
  consumers = [
    startAgentEventsConsumer({
      connection,
      publisher,
      topology: deps.topology,
      keyring: deps.keyring,
      prefetch: 20,
      batchSize: 10,
      logger,
      retryDelaysMs,
      record: (messages) => recordReceivedMessages(deps, messages),
    }),
    startLogsConsumer({
      connection,
      publisher,
      topology: deps.topology,
      keyring: deps.keyring,
      prefetch: 20,
      batchSize: 10,
      logger,
      retryDelaysMs,
      store: (chunks) => storeReceivedLogChunks(deps, chunks, { maxBytes: 65_536 }),
    }),
  ];
  await Promise.all(
    consumers.map(({ consumer }) => new Promise((resolve) => consumer.once('ready', resolve))),
  );
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.close();
  await publisher?.close();
  await connection?.close();
  await channel?.close();
  await amqp?.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix);
  await deps.dataSource.destroy();
});

type Run = Awaited<ReturnType<typeof dispatchedExecution>>;

function envelope(run: Pick<Run, 'nodeId'>, type: string, payload: unknown, messageId = randomUUID()) {
  return {
    messageId,
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'corr-limits',
    nodeId: run.nodeId,
    payload,
  };
}

const report = (run: Run, type: string, sequence: number, fields: Record<string, unknown> = {}) =>
  envelope(run, type, { taskId: run.taskId, executionId: run.executionId, sequence, ...fields });

/** Publishes a message as JSON bytes, the way any agent (or a hostile publisher) could. */
async function publish(
  message: { messageId?: unknown; type?: unknown },
  exchange = deps.topology.agentEventsExchange,
) {
  const body = Buffer.from(encodeJson(message));
  const routingKey = exchange === deps.topology.logsExchange ? 'node.x' : String(message.type).slice(0, 200);
  channel.publish(exchange, routingKey, body, {
    contentType: 'application/json',
    messageId: typeof message.messageId === 'string' ? message.messageId : randomUUID(),
    persistent: true,
  });
  await channel.waitForConfirms();
}

/** The reasons of the dead letters of `queue` until one names `messageId`. */
async function deadLetterOf(queue: string, messageId: string): Promise<string> {
  return waitFor(
    async () => {
      const message = await channel.get(queue, { noAck: false });
      if (!message) return undefined;
      if (message.properties.messageId !== messageId) {
        channel.nack(message, false, true);
        return undefined;
      }
      channel.ack(message);
      return String(message.properties.headers?.[DEAD_LETTER_REASON_HEADER]);
    },
    { description: `the dead letter of ${messageId}` },
  );
}

async function settled(run: Run) {
  return waitFor(
    async () => {
      const task = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: run.taskId });
      if (!['Completed', 'Failed', 'Timeout', 'Retrying'].includes(task.status)) return undefined;
      const execution = await deps.dataSource
        .getRepository(ExecutionEntity)
        .findOneByOrFail({ id: run.executionId });
      return { task, execution };
    },
    { description: `task of execution ${run.executionId} to end` },
  );
}

describe('reports past the limits, on the real broker and database', () => {
  it('completes a program that printed a NUL byte, its output stored with U+FFFD', async () => {
    const run = await dispatchedExecution(deps);
    await publish(report(run, 'TaskStarted', 0, { pid: 42 }));
    await publish(
      report(run, 'TaskCompleted', 1, {
        exitCode: 0,
        durationMs: 3,
        result: { 'k\u0000': 'v\u0000' },
        output: { stdout: 'before\u0000after\n', stderr: '\u0000', truncatedBytes: 0 },
      }),
    );
    const { task, execution } = await settled(run);
    expect(task.status).toBe('Completed');
    expect(execution).toMatchObject({
      status: 'Completed',
      output: 'before\uFFFDafter\n',
      errorOutput: '\uFFFD',
      result: { 'k\uFFFD': 'v\uFFFD' },
    });
  });

  it('fails a task with its 12,000-character error clamped, not with a Timeout', async () => {
    const run = await dispatchedExecution(deps);
    await publish(
      report(run, 'TaskFailed', 0, {
        error: `${'e'.repeat(11_990)}END\u0000`,
        exitCode: 2,
        retryable: false,
      }),
    );
    const { task, execution } = await settled(run);
    expect(task.status).toBe('Failed');
    expect(execution.status).toBe('Failed');
    expect(Buffer.byteLength(execution.errorMessage!)).toBeLessThanOrEqual(ERROR_MAX_BYTES);
    expect(execution.errorMessage).toMatch(/^e+\n…\[\d+ bytes dropped\]…\ne+END\uFFFD$/);
  });

  it('fails the execution at once when an end report carries an integer past its column, and parks the report', async () => {
    const run = await dispatchedExecution(deps);
    const completed = report(run, 'TaskCompleted', 1, { exitCode: 0, durationMs: 2 ** 31 });
    await publish(completed);
    const { task, execution } = await settled(run);
    expect(task.status).toBe('Failed');
    expect(execution).toMatchObject({ status: 'Failed', exitCode: null });
    expect(execution.errorMessage).toBe(
      'invalid end report: invalid TaskCompleted: payload.durationMs: must be at most 2147483647 (a 32-bit integer)',
    );
    expect(await deadLetterOf(deps.topology.agentEventsDeadLetterQueue, completed.messageId)).toMatch(
      /payload\.durationMs/,
    );
  });

  it('parks a progress report with a sequence past int4 alone; the execution goes on', async () => {
    const run = await dispatchedExecution(deps);
    const progress = report(run, 'TaskProgress', 2 ** 31, { percent: 10 });
    await publish(progress);
    expect(await deadLetterOf(deps.topology.agentEventsDeadLetterQueue, progress.messageId)).toMatch(
      /payload\.sequence: must be at most 2147483647/,
    );
    await publish(report(run, 'TaskCompleted', 1, { exitCode: 0, durationMs: 1 }));
    expect((await settled(run)).task.status).toBe('Completed');
  });

  it('fails the execution of an end report nested 10,000 deep, and parks it', async () => {
    const run = await dispatchedExecution(deps);
    const deep: unknown = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    const completed = report(run, 'TaskCompleted', 1, { exitCode: 0, durationMs: 1, result: deep });
    await publish(completed);
    const { task, execution } = await settled(run);
    expect(task.status).toBe('Failed');
    expect(execution.errorMessage).toBe('invalid end report: body is nested deeper than 32 levels');
    expect(await deadLetterOf(deps.topology.agentEventsDeadLetterQueue, completed.messageId)).toBe(
      'body is nested deeper than 32 levels',
    );
  });

  it('refuses an invalid end report from another node: the node check still holds', async () => {
    const run = await dispatchedExecution(deps);
    const forged = { ...report(run, 'TaskCompleted', 5, { exitCode: 'x' }), nodeId: 'another-node' };
    await publish(forged);
    // The salvaged failure is recorded (here: refused) before the original is dead-lettered.
    await deadLetterOf(deps.topology.agentEventsDeadLetterQueue, forged.messageId);
    const claimed = await deps.dataSource.query<unknown[]>(
      'SELECT 1 FROM processed_messages WHERE message_id = $1',
      [forged.messageId],
    );
    expect(claimed).toEqual([]);
    const task = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: run.taskId });
    expect(task.status).toBe('Scheduled');
  });

  it('parks a heartbeat from ../../etc/passwd and registers no such node', async () => {
    const beat = envelope({ nodeId: 'node-ok' }, 'AgentHeartbeat', {
      nodeId: '../../etc/passwd',
      orgId: 'acme',
      agentId: 'a',
      agentVersion: '1',
      protocolVersion: 1,
      capacity: 1,
      runningExecutions: [],
      labels: { ['k'.repeat(5000)]: 'v' },
    });
    await publish(beat);
    const reason = await deadLetterOf(deps.topology.agentEventsDeadLetterQueue, beat.messageId);
    expect(reason).toMatch(/payload\.nodeId/);
    expect(reason.length).toBeLessThan(1100);
    expect(await deps.dataSource.getRepository(NodeEntity).findOneBy({ id: '../../etc/passwd' })).toBeNull();
  });
});

describe('log chunks past the limits', () => {
  const line = (seq: number, text: unknown) => ({
    seq,
    stream: 'stdout',
    ts: new Date().toISOString(),
    text,
  });

  it('parks a chunk nested 10,000 deep alone, and stores a NUL line with U+FFFD', async () => {
    const run = await dispatchedExecution(deps);
    const deep = envelope(run, 'LogChunk', {
      taskId: run.taskId,
      executionId: run.executionId,
      lines: [line(1, JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`))],
    });
    await publish(deep, deps.topology.logsExchange);
    await publish(
      envelope(run, 'LogChunk', {
        taskId: run.taskId,
        executionId: run.executionId,
        lines: [line(1, 'nul\u0000here')],
        droppedBytes: 2 ** 40,
      }),
      deps.topology.logsExchange,
    );
    expect(await deadLetterOf(deps.topology.logsDeadLetterQueue, deep.messageId)).toBe(
      'body is nested deeper than 32 levels',
    );
    const page = await waitFor(
      async () => {
        const read = await readExecutionLog(deps, actorOf(run.orgId), run.executionId, {
          after: 0,
          limit: 10,
        });
        return read.items.length > 0 ? read : undefined;
      },
      { description: 'the good chunk to be stored' },
    );
    expect(page.items.map((item) => item.text)).toEqual(['nul\uFFFDhere']);
  });
});
