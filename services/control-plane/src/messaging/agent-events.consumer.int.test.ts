import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { Connection, type Publisher } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { DEAD_LETTER_REASON_HEADER, topology as buildTopology } from '@meridian/contracts/topology';
import { createTestAppDeps, dispatchedExecution, report } from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { recordReceivedMessages } from '../app/record-agent-messages.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { startAgentEventsConsumer, type AgentEventsConsumer } from './agent-events.consumer.js';
import { controlPlaneDeclarations } from './broker-topology.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let connection: Connection;
let publisher: Publisher;
let events: AgentEventsConsumer;
let amqp: ChannelModel;
let channel: ConfirmChannel;
/** Reports about these executions fail in the database as a value PostgreSQL refuses would. */
const poisoned = new Set<string>();
/** Reports about these executions fail as if the database were away, this many more times. */
const unreachableFor = new Map<string, number>();

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  deps.topology = buildTopology(uniquePrefix());
  const declarations = controlPlaneDeclarations(deps.topology);
  connection = new Connection({ url: testAmqpUrl(), noDelay: true });
  publisher = connection.createPublisher({
    confirm: true,
    exchanges: declarations.exchanges,
    queues: [declarations.agentEventsQueue, declarations.deadLetterQueue],
    queueBindings: declarations.queueBindings.filter(
      (b) =>
        b.queue === deps.topology.agentEventsQueue || b.queue === deps.topology.agentEventsDeadLetterQueue,
    ),
  });
  events = startAgentEventsConsumer({
    connection,
    publisher,
    topology: deps.topology,
    keyring: deps.keyring,
    prefetch: 100,
    batchSize: 50,
    logger: pino({ level: 'silent' }),
    retryDelaysMs: { min: 10, max: 100 },
    record: (messages) => {
      const ids = messages.map(({ message: m }) =>
        'executionId' in m.payload ? (m.payload.executionId ?? '') : '',
      );
      for (const id of ids) {
        const left = unreachableFor.get(id) ?? 0;
        if (left > 0) {
          unreachableFor.set(id, left - 1);
          const error = new Error('terminating connection due to administrator command');
          return Promise.reject(Object.assign(error, { code: '57P01' }));
        }
      }
      if (ids.some((id) => poisoned.has(id))) {
        const error = new Error('value "3000000000" is out of range for type integer');
        return Promise.reject(Object.assign(error, { code: '22003' }));
      }
      return recordReceivedMessages(deps, messages);
    },
  });
  await new Promise<void>((resolve) => events.consumer.once('ready', resolve));
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
  // The publisher declares the dead-letter queue with its first message; the test reads it before.
  const { queue, durable, arguments: args } = declarations.deadLetterQueue;
  await channel.assertQueue(queue, { durable, arguments: args });
  await channel.bindQueue(queue, deps.topology.deadLetterExchange, deps.topology.agentEventsDeadLetterKey);
});

afterAll(async () => {
  await events?.close();
  await publisher?.close();
  await connection?.close();
  await channel?.close();
  await amqp?.close();
  await deleteBrokerObjects(testAmqpUrl(), deps.topology.prefix);
  await deps.dataSource.destroy();
});

async function publish(messages: AgentMessage[]) {
  for (const message of messages) {
    channel.publish(deps.topology.agentEventsExchange, message.type, Buffer.from(JSON.stringify(message)), {
      contentType: 'application/json',
      messageId: message.messageId,
      persistent: true,
    });
  }
  await channel.waitForConfirms();
}

const completed = (run: { taskId: string; executionId: string; nodeId: string }) =>
  report('TaskCompleted', run, 1, { exitCode: 0, durationMs: 3 });

async function taskStatus(taskId: string) {
  return (await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: taskId })).status;
}

describe('agent events consumer on the real broker', () => {
  it('dead-letters the one report that fails on its own, with a short reason, and applies the rest of its batch', async () => {
    const runs = [];
    for (let i = 0; i < 6; i += 1) runs.push(await dispatchedExecution(deps));
    const bad = runs[2]!;
    poisoned.add(bad.executionId);
    const reports = runs.map(completed);
    await publish(reports);

    const parked = await waitFor(
      async () => (await channel.get(deps.topology.agentEventsDeadLetterQueue, { noAck: true })) || undefined,
      { description: 'the poison report to be parked' },
    );
    expect(parked.properties.messageId).toBe(reports[2]!.messageId);
    const reason = String(parked.properties.headers?.[DEAD_LETTER_REASON_HEADER]);
    expect(reason).toBe('not applied: Error 22003: value "3000000000" is out of range for type integer');
    for (const run of runs.filter((r) => r !== bad)) {
      await waitFor(async () => (await taskStatus(run.taskId)) === 'Completed', {
        description: `task ${run.taskId} to complete`,
      });
    }
    expect(await taskStatus(bad.taskId)).toBe('Scheduled');
    expect(await channel.get(deps.topology.agentEventsDeadLetterQueue, { noAck: true })).toBe(false);
    expect(events.consumer.stats.requeued).toBe(0);
  });

  it('holds reports while the database is away and applies them when it answers: none requeued or parked', async () => {
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push(await dispatchedExecution(deps));
    for (const run of runs) unreachableFor.set(run.executionId, 3);
    await publish(runs.map(completed));
    for (const run of runs) {
      await waitFor(async () => (await taskStatus(run.taskId)) === 'Completed', {
        description: `task ${run.taskId} to complete`,
      });
    }
    expect(events.waitingForDatabase()).toBe(0);
    expect(events.consumer.stats.requeued).toBe(0);
    expect(await channel.get(deps.topology.agentEventsDeadLetterQueue, { noAck: true })).toBe(false);
  });
});
