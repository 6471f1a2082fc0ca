import { randomUUID } from 'node:crypto';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterSummary } from '@meridian/contracts/api/dead-letter';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { topology as buildTopology, type Topology } from '@meridian/contracts/topology';
import {
  actorOf,
  createTestAppDeps,
  heartbeat,
  ManualClock,
  report,
} from '../../../../test/support/app-deps.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../../../../test/support/test-context.js';
import { createTask } from '../app/create-task.js';
import { dispatchPendingTasks } from '../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../app/record-agent-messages.js';
import { loadConfig } from '../config.js';
import { startControlPlane, type RunningControlPlane } from '../control-plane.js';
import { signTestToken, TEST_SECRET } from '../http/test-tokens.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';

/**
 * The whole control plane in this process, on the shared broker, where the only user is `guest`:
 * a credential row naming `guest` as a node's broker user makes whatever `guest` publishes with
 * `user_id: guest` come from that enrolled node, as the broker vouches, end to end through the
 * consumers, the dead-letter store, the re-drive API and the outbox relay.
 */
const database = useTestDatabase();
const nodeIds: string[] = [];
let topology: Topology;
let controlPlane: RunningControlPlane;
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let amqp: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  topology = buildTopology(uniquePrefix());
  const config = loadConfig({
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    TOPOLOGY_PREFIX: topology.prefix,
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: TEST_SECRET,
    POLL_INTERVAL_MS: '100',
    DB_POOL_SIZE: '6',
    LOG_LEVEL: 'silent',
  });
  controlPlane = await startControlPlane(config, pino({ level: 'silent' }));
  deps = await createTestAppDeps(database.url, new ManualClock(new Date()));
  deps.topology = topology;
  amqp = await connectAmqp(testAmqpUrl());
  channel = await amqp.createConfirmChannel();
});
afterAll(async () => {
  await controlPlane.stop();
  await deps.dataSource.destroy();
  await amqp.close();
  await deleteBrokerObjects(testAmqpUrl(), topology.prefix, { nodeIds });
});

/** A dispatched execution on a node of its own, whose broker user is `guest` (the only one here). */
async function guestExecution() {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  nodeIds.push(nodeId);
  await channel.assertQueue(topology.nodeWorkQueue(nodeId), { durable: true });
  await channel.bindQueue(
    topology.nodeWorkQueue(nodeId),
    topology.commandsExchange,
    topology.nodeWorkKey(nodeId),
  );
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, new Date())]);
  await deps.dataSource.query(`DELETE FROM node_credentials WHERE broker_username = 'guest'`);
  await deps.dataSource.query(
    `INSERT INTO node_credentials (node_id, org_id, broker_username, password_hash, created_at)
     VALUES ($1, $2, 'guest', 'not-a-hash', now())`,
    [nodeId, orgId],
  );
  const task = await createTask(deps, actorOf(orgId), {
    type: 'Command',
    name: 'print',
    priority: 'Normal',
    targetType: 'Node',
    targetId: nodeId,
    nodeId,
    payload: { command: ['echo', 'hi'] },
    metadata: {},
  });
  await dispatchPendingTasks(deps, 100);
  const executionId = await waitFor(
    async () =>
      (await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id })).currentExecutionId,
    { description: 'the task dispatched' },
  );
  return { orgId, nodeId, taskId: task.id, executionId };
}

async function publish(exchange: string, routingKey: string, message: AgentMessage, userId?: string) {
  channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(message)), {
    messageId: message.messageId,
    type: message.type,
    persistent: true,
    contentType: 'application/json',
    ...(userId ? { userId } : {}),
  });
  await channel.waitForConfirms();
}

const publishEvent = (message: AgentMessage, userId?: string) =>
  publish(topology.agentEventsExchange, message.type, message, userId);

interface DeadLetterRow {
  id: string;
  org_id: string | null;
  reason: string;
  sender: string | null;
  redriven_at: Date | null;
}

/** The dead letters of one message id, oldest first, once there are at least `count`. */
function deadLettersOf(messageId: string, count = 1): Promise<DeadLetterRow[]> {
  return waitFor(
    async () => {
      const rows = await deps.dataSource.query<DeadLetterRow[]>(
        `SELECT id, org_id, reason, sender, redriven_at FROM dead_letters WHERE message_id = $1
          ORDER BY recorded_at, id`,
        [messageId],
      );
      return rows.length >= count ? rows : undefined;
    },
    { description: `${count} dead letters of ${messageId}` },
  );
}

async function redrive(id: string, orgId: string): Promise<DeadLetterSummary> {
  const token = await signTestToken({ orgId, permissions: ['admin:dead-letters', 'platform:dead-letters'] });
  const response = await fetch(
    `http://127.0.0.1:${controlPlane.port}/api/v1/admin/dead-letters/${id}/redrive`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    },
  );
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as DeadLetterSummary;
}

async function executionOf(executionId: string) {
  const [row] = await deps.dataSource.query<{ status: string; last_sequence: number; task_status: string }[]>(
    `SELECT e.status, e.last_sequence, t.status AS task_status
       FROM executions e JOIN tasks t ON t.id = e.task_id WHERE e.id = $1`,
    [executionId],
  );
  return row!;
}

describe('agent messages and their broker-validated senders', () => {
  it('a forged TaskProgress with a high sequence and no user id is dead-lettered and changes nothing; the real completion, from the node user, is applied', async () => {
    const run = await guestExecution();
    const forged = report('TaskProgress', run, 1_000_000, { percent: 99 });
    await publishEvent(forged);
    const [deadLetter] = await deadLettersOf(forged.messageId);
    expect(deadLetter).toMatchObject({ org_id: run.orgId, sender: null });
    expect(deadLetter!.reason).toContain(`may not speak for node ${run.nodeId}`);
    const claimed = await deps.dataSource.query<unknown[]>(
      `SELECT 1 FROM processed_messages WHERE message_id = $1`,
      [forged.messageId],
    );
    expect(claimed).toEqual([]);
    expect(await executionOf(run.executionId)).toMatchObject({ status: 'Dispatched', last_sequence: -1 });

    await publishEvent(report('TaskCompleted', run, 1, { exitCode: 0, durationMs: 3 }), 'guest');
    await waitFor(async () => (await executionOf(run.executionId)).task_status === 'Completed', {
      description: 'the real completion applied',
    });
    expect(await executionOf(run.executionId)).toMatchObject({ status: 'Completed', last_sequence: 1 });
  });

  it("a heartbeat from the node's user claiming another organisation changes nothing, keeps its sender when dead-lettered and when re-driven", async () => {
    const run = await guestExecution();
    const claim = heartbeat(run.nodeId, 'org-victim', 10, new Date());
    await publishEvent(claim, 'guest');
    const [first] = await deadLettersOf(claim.messageId);
    expect(first).toMatchObject({ org_id: run.orgId, sender: 'guest' });
    expect(first!.reason).toContain('sender "guest" may not speak for another organisation');
    const victims = await deps.dataSource.query<unknown[]>(
      `SELECT id FROM nodes WHERE org_id = 'org-victim'`,
    );
    expect(victims).toEqual([]);

    // Re-driven, it is heard as from `guest` again (the signed header is believed): refused the same way.
    await redrive(first!.id, run.orgId);
    const [, again] = await deadLettersOf(claim.messageId, 2);
    expect(again).toMatchObject({ sender: 'guest', reason: first!.reason, redriven_at: null });
  });

  it('a re-driven message is heard as from its original sender, and only from it', async () => {
    const run = await guestExecution();
    // Parked by the broker or a consumer with its validated sender, then re-driven: applied.
    const started = report('TaskStarted', run, 1);
    await publish(topology.deadLetterExchange, topology.agentEventsDeadLetterKey, started, 'guest');
    const [kept] = await deadLettersOf(started.messageId);
    expect(kept).toMatchObject({ sender: 'guest', org_id: run.orgId });
    await redrive(kept!.id, run.orgId);
    await waitFor(async () => (await executionOf(run.executionId)).status === 'Running', {
      description: 'the re-driven start applied',
    });

    // Without a sender, the same kind of message re-driven is an unenrolled sender's: refused.
    const progress = report('TaskProgress', run, 2, { percent: 50 });
    await publish(topology.deadLetterExchange, topology.agentEventsDeadLetterKey, progress);
    const [anonymous] = await deadLettersOf(progress.messageId);
    expect(anonymous!.sender).toBeNull();
    await redrive(anonymous!.id, run.orgId);
    const [, refused] = await deadLettersOf(progress.messageId, 2);
    expect(refused!.reason).toContain('unenrolled sender (no user id)');
    expect(await executionOf(run.executionId)).toMatchObject({ status: 'Running', last_sequence: 1 });
  });
});
