import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolledEventKey } from '@meridian/contracts/security/node-identity';
import { amqpUrlAs, createBrokerUser } from '../support/broker-management.js';
import { brokerRefusal, connectAs, publishConfirmed } from '../support/amqp-as.js';
import {
  agentEnvelope,
  heartbeatPayload,
  processedMessages,
  waitForDeadLetters,
  type DeadLetterRow,
} from '../support/forged-messages.js';
import type { EnrolledAgent } from '../support/enrolled-agent.js';
import { commandTask } from './stack.js';
import { useSecureStack } from './secure-stack.js';

/**
 * Node A, enrolled, turns hostile: with its own broker login (taken from its credentials file) it
 * tries to read node B's commands and to speak for B. And the forgeries that worked before per-node
 * credentials, through the shared login every agent used to hold, as regression tests.
 */
const stack = useSecureStack({ nodes: ['a', 'b'] });
let a: EnrolledAgent;
let b: EnrolledAgent;
let asA: ChannelModel;
let shared: ChannelModel;
let folder: string;

beforeAll(async () => {
  a = stack.agent('a');
  b = stack.agent('b');
  asA = await connectAs(
    amqpUrlAs(stack.amqpUrl, a.credentials.broker.username, a.credentials.broker.password),
  );
  // The login all agents shared before protocol version 2: full rights on the vhost, no tags.
  const sharedUser = `${stack.prefix}-agents`;
  await createBrokerUser(stack.managementUrl, {
    name: sharedUser,
    password: 'shared-agents-password',
    permissions: { configure: '.*', write: '.*', read: '.*' },
  });
  shared = await connectAs(amqpUrlAs(stack.amqpUrl, sharedUser, 'shared-agents-password'));
  folder = await mkdtemp(join(tmpdir(), 'meridian-impersonation-'));
});
afterAll(async () => {
  await asA?.close().catch(() => undefined);
  await shared?.close().catch(() => undefined);
  if (folder) {
    await writeFile(join(folder, 'release-all'), '');
    await rm(folder, { recursive: true, force: true });
  }
});

const usernameOf = (agent: EnrolledAgent) => agent.credentials.broker.username;

/** Dead letters as `{ sender: { messageId: reason } }`: who was refused, for what. */
function reasonsBySender(rows: readonly DeadLetterRow[]) {
  const bySender: Record<string, Record<string, string>> = {};
  for (const row of rows) (bySender[row.sender ?? '(none)'] ??= {})[row.message_id] = row.reason;
  return bySender;
}

/** A task pinned to B that runs until the test creates `release`; resolves once it runs. */
async function runningTaskOnB(name: string) {
  const release = join(folder, name);
  const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
    body: commandTask(
      `while [ ! -e '${release}' ] && [ ! -e '${join(folder, 'release-all')}' ]; do sleep 0.1; done; echo real`,
      { nodeId: b.nodeId },
    ),
  });
  expect(created.status).toBe(201);
  await stack.waitForStatus(created.body.id, ['Running']);
  const runs = await stack.api<{ items: { executionId: string; nodeId: string }[] }>(
    'GET',
    `/api/v1/tasks/${created.body.id}/executions`,
  );
  const execution = runs.body.items[0]!;
  expect(execution.nodeId).toBe(b.nodeId);
  return { taskId: created.body.id, executionId: execution.executionId, release };
}

/** B's own report ends the task: it completes with its real output, and the forgeries left no trace. */
async function expectRealCompletion(task: { taskId: string; executionId: string; release: string }) {
  await writeFile(task.release, '');
  expect(await stack.waitForStatus(task.taskId, ['Completed', 'Failed', 'Timeout'])).toMatchObject({
    status: 'Completed',
  });
  const execution = await stack.api<Record<string, unknown>>(
    'GET',
    `/api/v1/tasks/executions/${task.executionId}`,
  );
  expect(execution.body).toMatchObject({ status: 'Completed', exitCode: 0, output: 'real\n' });
  expect(execution.body['progressPercent']).not.toBe(99);
}

describe("node A's broker login", () => {
  it("cannot consume node B's queues, declare or bind a queue, or publish commands (regression: any agent could read any node's commands)", async () => {
    const names = stack.names;
    const attempts = {
      "consume B's work queue": brokerRefusal(asA, (ch) =>
        ch.consume(names.nodeWorkQueue(b.nodeId), () => {}),
      ),
      "consume B's control queue": brokerRefusal(asA, (ch) =>
        ch.consume(names.nodeControlQueue(b.nodeId), () => {}),
      ),
      "get from B's work queue": brokerRefusal(asA, (ch) => ch.get(names.nodeWorkQueue(b.nodeId))),
      'declare a queue of its own': brokerRefusal(asA, (ch) => ch.assertQueue(`${names.prefix}.node.spy`)),
      "bind its queue to B's commands": brokerRefusal(asA, (ch) =>
        ch.bindQueue(names.nodeWorkQueue(a.nodeId), names.commandsExchange, names.nodeWorkKey(b.nodeId)),
      ),
      'publish a command': brokerRefusal(asA, (ch) =>
        publishConfirmed(ch, {
          exchange: names.commandsExchange,
          routingKey: names.nodeWorkKey(b.nodeId),
          body: {},
          userId: usernameOf(a),
        }),
      ),
    };
    for (const [attempt, refusal] of Object.entries(attempts)) {
      expect(await refusal, attempt).toMatch(/403|ACCESS.REFUSED/);
    }
  });

  it("cannot publish as B: a message with B's user_id, or on B's routing key, is refused by the broker", async () => {
    const heartbeat = agentEnvelope(
      'AgentHeartbeat',
      b.nodeId,
      heartbeatPayload({ nodeId: b.nodeId, orgId: stack.orgId }),
    );
    const withUserIdOfB = await brokerRefusal(asA, (ch) =>
      publishConfirmed(ch, {
        exchange: stack.names.agentEventsExchange,
        routingKey: enrolledEventKey(usernameOf(a), 'AgentHeartbeat'),
        body: heartbeat,
        userId: usernameOf(b),
      }),
    );
    expect(withUserIdOfB).toMatch(/406|PRECONDITION.FAILED/);
    const onKeyOfB = await brokerRefusal(asA, (ch) =>
      publishConfirmed(ch, {
        exchange: stack.names.agentEventsExchange,
        routingKey: enrolledEventKey(usernameOf(b), 'AgentHeartbeat'),
        body: heartbeat,
        userId: usernameOf(a),
      }),
    );
    expect(onKeyOfB).toMatch(/403|ACCESS.REFUSED/);
    // Its own key with its own user_id goes through: the refusals above are about B, not about A.
    const own = agentEnvelope(
      'AgentHeartbeat',
      a.nodeId,
      heartbeatPayload({ nodeId: a.nodeId, orgId: stack.orgId }),
    );
    expect(
      await brokerRefusal(asA, (ch) =>
        publishConfirmed(ch, {
          exchange: stack.names.agentEventsExchange,
          routingKey: enrolledEventKey(usernameOf(a), 'AgentHeartbeat'),
          body: own,
          messageId: own.messageId,
          userId: usernameOf(a),
        }),
      ),
    ).toBeUndefined();
  });

  it("sends a forged report for B's execution with a high sequence: it changes nothing and B's real completion is applied", async () => {
    const task = await runningTaskOnB('forged-by-a');
    const speakingForB = agentEnvelope('TaskProgress', b.nodeId, {
      taskId: task.taskId,
      executionId: task.executionId,
      sequence: 1_000_000,
      percent: 99,
      message: 'forged',
    });
    const inItsOwnName = agentEnvelope('TaskCompleted', a.nodeId, {
      taskId: task.taskId,
      executionId: task.executionId,
      sequence: 1_000_001,
      exitCode: 99,
      durationMs: 1,
    });
    for (const forged of [speakingForB, inItsOwnName]) {
      const refused = await brokerRefusal(asA, (ch) =>
        publishConfirmed(ch, {
          exchange: stack.names.agentEventsExchange,
          routingKey: enrolledEventKey(usernameOf(a), forged.type),
          body: forged,
          messageId: forged.messageId,
          type: forged.type,
          userId: usernameOf(a),
        }),
      );
      expect(refused).toBeUndefined(); // the broker lets A speak; the control plane must not believe it
    }
    const ids = [speakingForB.messageId, inItsOwnName.messageId];
    const reasons = reasonsBySender(await waitForDeadLetters(stack.db, ids));
    expect(reasons).toEqual({
      [usernameOf(a)]: {
        [speakingForB.messageId]: expect.stringMatching(`may not speak for node ${b.nodeId}`) as unknown,
        [inItsOwnName.messageId]: expect.stringMatching(
          `does not run execution ${task.executionId}`,
        ) as unknown,
      },
    });
    // Refused before its message id was claimed: nothing consumed, no sequence touched.
    expect(await processedMessages(stack.db, ids)).toEqual([]);
    expect((await stack.api<{ status: string }>('GET', `/api/v1/tasks/${task.taskId}`)).body.status).toBe(
      'Running',
    );

    await expectRealCompletion(task);
  });

  it('sends a heartbeat claiming another organisation, or node B: nothing changes', async () => {
    const otherOrg = `${stack.prefix}-victim`;
    const ownNodeOtherOrg = agentEnvelope(
      'AgentHeartbeat',
      a.nodeId,
      heartbeatPayload({ nodeId: a.nodeId, orgId: otherOrg }),
    );
    const nodeB = agentEnvelope(
      'AgentHeartbeat',
      a.nodeId,
      heartbeatPayload({ nodeId: b.nodeId, orgId: otherOrg }),
    );
    for (const forged of [ownNodeOtherOrg, nodeB]) {
      await brokerRefusal(asA, (ch) =>
        publishConfirmed(ch, {
          exchange: stack.names.agentEventsExchange,
          routingKey: enrolledEventKey(usernameOf(a), 'AgentHeartbeat'),
          body: forged,
          messageId: forged.messageId,
          type: 'AgentHeartbeat',
          userId: usernameOf(a),
        }),
      );
    }
    const reasons = reasonsBySender(
      await waitForDeadLetters(stack.db, [ownNodeOtherOrg.messageId, nodeB.messageId]),
    );
    expect(reasons).toEqual({
      [usernameOf(a)]: {
        [ownNodeOtherOrg.messageId]: expect.stringMatching('another organisation') as unknown,
        [nodeB.messageId]: expect.stringMatching(b.nodeId) as unknown,
      },
    });

    const victim = await stack.tokenFor(otherOrg);
    for (const node of [a, b]) {
      expect((await stack.api('GET', `/api/v1/nodes/${node.nodeId}`, { token: victim })).status).toBe(404);
      expect((await stack.api<{ orgId: string }>('GET', `/api/v1/nodes/${node.nodeId}`)).body.orgId).toBe(
        stack.orgId,
      );
    }
    expect(
      (await stack.api<{ items: unknown[] }>('GET', '/api/v1/nodes', { token: victim })).body.items,
    ).toEqual([]);
  });
});

describe('forgeries that worked through the shared login before per-node credentials (regressions)', () => {
  it('a heartbeat no longer makes a node appear online in another organisation', async () => {
    const otherOrg = `${stack.prefix}-elsewhere`;
    const ghost = `${stack.prefix}-ghost`;
    const messages = [
      agentEnvelope(
        'AgentHeartbeat',
        ghost,
        heartbeatPayload({ nodeId: ghost, orgId: otherOrg, protocolVersion: 1 }),
      ),
      agentEnvelope(
        'AgentHeartbeat',
        b.nodeId,
        heartbeatPayload({ nodeId: b.nodeId, orgId: otherOrg, protocolVersion: 1 }),
      ),
    ];
    for (const forged of messages) {
      const refused = await brokerRefusal(shared, (ch) =>
        publishConfirmed(ch, {
          exchange: stack.names.agentEventsExchange,
          routingKey: 'AgentHeartbeat',
          body: forged,
          messageId: forged.messageId,
          type: 'AgentHeartbeat',
        }),
      );
      expect(refused).toBeUndefined();
    }
    const refusals = await waitForDeadLetters(
      stack.db,
      messages.map((m) => m.messageId),
    );
    for (const row of refusals) expect(row.reason).toMatch(/unenrolled sender/);
    const other = await stack.tokenFor(otherOrg);
    expect((await stack.api('GET', `/api/v1/nodes/${ghost}`, { token: other })).status).toBe(404);
    expect((await stack.api('GET', `/api/v1/nodes/${b.nodeId}`, { token: other })).status).toBe(404);
    expect(
      (await stack.api<{ items: unknown[] }>('GET', '/api/v1/nodes', { token: other })).body.items,
    ).toEqual([]);
    const { rows } = await stack.db.query('SELECT id FROM nodes WHERE id = $1 OR org_id = $2', [
      ghost,
      otherOrg,
    ]);
    expect(rows).toEqual([]);
  });

  it("a forged TaskProgress with the real node's id and a high sequence no longer makes the real TaskCompleted stale", async () => {
    const task = await runningTaskOnB('forged-by-shared');
    const forged = agentEnvelope('TaskProgress', b.nodeId, {
      taskId: task.taskId,
      executionId: task.executionId,
      sequence: 2_000_000_000,
      percent: 99,
    });
    await brokerRefusal(shared, (ch) =>
      publishConfirmed(ch, {
        exchange: stack.names.agentEventsExchange,
        routingKey: 'TaskProgress',
        body: forged,
        messageId: forged.messageId,
        type: 'TaskProgress',
      }),
    );
    const [refusal] = await waitForDeadLetters(stack.db, [forged.messageId]);
    expect(refusal?.reason).toMatch(/unenrolled sender/);
    expect(await processedMessages(stack.db, [forged.messageId])).toEqual([]);

    await expectRealCompletion(task);
  });
});
