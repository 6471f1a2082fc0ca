import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { CommandRejected } from '@meridian/contracts/messages/command-rejected';
import {
  actorOf,
  createTestAppDeps,
  dispatchedExecution,
  heartbeat,
  report,
} from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ANONYMOUS, CONTROL_PLANE, senderOf, type MessageSender } from '../domain/sender-decision.js';
import { storeReceivedLogChunks } from '../logs/store/store-log-chunks.js';
import type { LogChunkMessage } from '../logs/store/store-log-chunks.js';
import { recordReceivedMessages } from './record-agent-messages.js';
import { listTaskEvents } from './task-queries.js';

/**
 * The record functions with the sender a consumer hands them (the broker-validated AMQP user_id),
 * on the real database. Credential rows are written directly: enrollment is not what is tested.
 */
const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

const usernameOf = (nodeId: string) => `t.node.${nodeId}`;
const containing = (text: string) => expect.stringContaining(text) as string;
const including = (fields: Record<string, unknown>) =>
  expect.objectContaining(fields) as Record<string, unknown>;

/** A node_credentials row, as enrollment leaves it; returns the node's broker user as a sender. */
async function enroll(nodeId: string, orgId: string, revoked = false): Promise<MessageSender> {
  await deps.dataSource.query(
    `INSERT INTO node_credentials (node_id, org_id, broker_username, password_hash, created_at, revoked_at)
     VALUES ($1, $2, $3, 'not-a-hash', now(), CASE WHEN $4 THEN now() END)`,
    [nodeId, orgId, usernameOf(nodeId), revoked],
  );
  return senderOf(usernameOf(nodeId));
}

/** A dispatched execution whose node is enrolled; with the node's sender. */
async function enrolledRun() {
  const run = await dispatchedExecution(deps);
  return { ...run, sender: await enroll(run.nodeId, run.orgId) };
}

function record(messages: AgentMessage[], sender: MessageSender, overrides: Partial<typeof deps> = {}) {
  return recordReceivedMessages(
    { ...deps, ...overrides },
    messages.map((message) => ({ message, sender })),
  );
}

async function rows(run: { taskId: string; executionId: string }) {
  const [row] = await deps.dataSource.query<
    { status: string; last_sequence: number; task_status: string; retry_count: number }[]
  >(
    `SELECT e.status, e.last_sequence, t.status AS task_status, t.retry_count
       FROM executions e JOIN tasks t ON t.id = e.task_id WHERE e.id = $1`,
    [run.executionId],
  );
  return row!;
}

async function claimed(messageId: string): Promise<boolean> {
  const found = await deps.dataSource.query<unknown[]>(
    `SELECT 1 FROM processed_messages WHERE message_id = $1`,
    [messageId],
  );
  return found.length > 0;
}

async function nodeRow(nodeId: string) {
  const [row] = await deps.dataSource.query<
    { org_id: string; lost_at: Date | null; revoked_at: Date | null; last_seen_at: Date }[]
  >(`SELECT org_id, lost_at, revoked_at, last_seen_at FROM nodes WHERE id = $1`, [nodeId]);
  return row;
}

async function nodeEvents(nodeId: string) {
  return deps.dataSource.query<{ type: string; org_id: string; data: Record<string, unknown> }[]>(
    `SELECT type, org_id, data FROM node_events WHERE node_id = $1 ORDER BY id`,
    [nodeId],
  );
}

function rejection(
  run: { nodeId: string; taskId: string; executionId: string },
  commandType: string,
  code: CommandRejected['code'],
): AgentMessage {
  return {
    messageId: randomUUID(),
    type: 'CommandRejected',
    schemaVersion: 1,
    occurredAt: deps.clock.now().toISOString(),
    correlationId: 'corr-rejected',
    nodeId: run.nodeId,
    payload: {
      commandMessageId: randomUUID(),
      commandType,
      taskId: run.taskId,
      executionId: run.executionId,
      code,
      reason: `refused: ${code}`,
    },
  };
}

describe('reports from a sender that may not send them', () => {
  it('a forged TaskProgress with a high sequence for another node is refused before its id is claimed; the real completion is applied', async () => {
    const victim = await enrolledRun();
    const attacker = await enroll(`attacker-${randomUUID().slice(0, 8)}`, 'org-attacker');
    const forged = report('TaskProgress', victim, 1_000_000, { percent: 99 });
    const [result] = await record([forged], attacker);
    expect(result).toMatchObject({
      outcome: 'refused',
      reason: containing('may not speak for node'),
    });

    // The same forgery without a user id (the shared login) claiming the enrolled node.
    const anonymous = report('TaskProgress', victim, 1_000_001, { percent: 99 });
    expect((await record([anonymous], ANONYMOUS))[0]).toMatchObject({
      outcome: 'refused',
      reason: containing('an enrolled node speaks only through its own broker user'),
    });
    expect(await claimed(forged.messageId)).toBe(false);
    expect(await claimed(anonymous.messageId)).toBe(false);
    expect(await rows(victim)).toMatchObject({ status: 'Dispatched', last_sequence: -1 });

    const completed = report('TaskCompleted', victim, 1, { exitCode: 0, durationMs: 5 });
    expect((await record([completed], victim.sender))[0]?.outcome).toBe('applied');
    expect(await rows(victim)).toMatchObject({
      status: 'Completed',
      task_status: 'Completed',
      last_sequence: 1,
    });
    const events = await listTaskEvents(deps, actorOf(victim.orgId), victim.taskId);
    expect(events.map((event) => event.type)).not.toContain('ReportIgnored');
    expect(events.map((event) => event.type)).not.toContain('TaskProgress');
  });

  it('refuses an enrolled node reporting under its own name on an execution it does not run', async () => {
    const victim = await enrolledRun();
    const other = await enrolledRun();
    const forged = report('TaskFailed', { ...victim, nodeId: other.nodeId }, 5, {
      error: 'x',
      exitCode: 1,
      retryable: false,
    });
    const [result] = await record([forged], other.sender);
    expect(result).toMatchObject({
      outcome: 'refused',
      reason: `node ${other.nodeId} does not run execution ${victim.executionId}`,
    });
    expect(await claimed(forged.messageId)).toBe(false);
    expect(await rows(victim)).toMatchObject({ status: 'Dispatched', last_sequence: -1 });
  });

  it('hears a forged copy and the real message (same id, other senders) in one batch apart', async () => {
    const victim = await enrolledRun();
    const attacker = await enroll(`attacker-${randomUUID().slice(0, 8)}`, 'org-attacker');
    const real = report('TaskStarted', victim, 1);
    const results = await recordReceivedMessages(deps, [
      { message: { ...real, payload: { ...real.payload, sequence: 9 } } as AgentMessage, sender: attacker },
      { message: real, sender: victim.sender },
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['refused', 'applied']);
    expect(await rows(victim)).toMatchObject({ status: 'Running', last_sequence: 1 });
  });

  it('refuses every unenrolled sender when enrollment is required, but not the control plane itself', async () => {
    const run = await dispatchedExecution(deps);
    const strict = { security: { ...deps.security, requireEnrollment: true } };
    const started = report('TaskStarted', run, 1);
    expect((await record([started], senderOf('guest'), strict))[0]).toMatchObject({
      outcome: 'refused',
      reason: containing('unenrolled sender ("guest")'),
    });
    const failed = report('TaskFailed', run, 2 ** 31 - 1, {
      error: 'not delivered',
      exitCode: null,
      retryable: true,
    });
    expect((await record([failed], CONTROL_PLANE, strict))[0]?.outcome).toBe('applied');
  });
});

describe('heartbeats', () => {
  it('one from an enrolled node claiming another organisation changes nothing', async () => {
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    const sender = await enroll(nodeId, 'org-home');
    const [claimingOther] = await record([heartbeat(nodeId, 'org-victim', 4, deps.clock.now())], sender);
    expect(claimingOther).toMatchObject({
      outcome: 'refused',
      reason: containing('may not speak for another organisation'),
    });
    // Another node id under its own user: refused too.
    const ghost = `ghost-${randomUUID().slice(0, 8)}`;
    expect((await record([heartbeat(ghost, 'org-victim', 4, deps.clock.now())], sender))[0]?.outcome).toBe(
      'refused',
    );
    expect(await nodeRow(nodeId)).toBeUndefined();
    expect(await nodeRow(ghost)).toBeUndefined();

    expect((await record([heartbeat(nodeId, 'org-home', 4, deps.clock.now())], sender))[0]?.outcome).toBe(
      'applied',
    );
    expect(await nodeRow(nodeId)).toMatchObject({ org_id: 'org-home' });
  });

  it('one from an unenrolled sender does not make a node appear in an organisation when enrollment is required', async () => {
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    const strict = { security: { ...deps.security, requireEnrollment: true } };
    const [result] = await record([heartbeat(nodeId, 'org-victim', 4, deps.clock.now())], ANONYMOUS, strict);
    expect(result?.outcome).toBe('refused');
    expect(await nodeRow(nodeId)).toBeUndefined();
  });

  it("one from an unenrolled sender in development for another organisation's node is refused", async () => {
    const run = await dispatchedExecution(deps);
    const [result] = await record([heartbeat(run.nodeId, 'org-victim', 4, deps.clock.now())], ANONYMOUS);
    expect(result).toMatchObject({
      outcome: 'refused',
      reason: `node ${run.nodeId} belongs to another organisation`,
    });
    expect(await nodeRow(run.nodeId)).toMatchObject({ org_id: run.orgId });
  });

  it('never brings a revoked node back, from its own user or from anyone', async () => {
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    const live = await enroll(nodeId, 'org-r');
    await record([heartbeat(nodeId, 'org-r', 4, deps.clock.now())], live);
    await deps.dataSource.query(`UPDATE nodes SET revoked_at = now(), lost_at = now() WHERE id = $1;`, [
      nodeId,
    ]);
    await deps.dataSource.query(`UPDATE node_credentials SET revoked_at = now() WHERE node_id = $1`, [
      nodeId,
    ]);
    const before = await nodeRow(nodeId);
    deps.clock.advance(1000);
    for (const sender of [live, ANONYMOUS, senderOf('guest')]) {
      const [result] = await record([heartbeat(nodeId, 'org-r', 4, deps.clock.now())], sender);
      expect(result).toMatchObject({ outcome: 'refused', reason: `node ${nodeId} is revoked` });
    }
    expect(await nodeRow(nodeId)).toEqual(before);
    expect((await nodeEvents(nodeId)).map((event) => event.type)).not.toContain('NodeReturned');
  });
});

describe('CommandRejected', () => {
  it('an ExecuteTask refused while Dispatched ends the execution and retries the task', async () => {
    const run = await enrolledRun();
    const refused = rejection(run, 'ExecuteTask', 'bad-signature');
    expect((await record([refused], run.sender))[0]?.outcome).toBe('applied');
    expect(await rows(run)).toMatchObject({ status: 'Failed', task_status: 'Retrying', retry_count: 1 });
    const events = await listTaskEvents(deps, actorOf(run.orgId), run.taskId);
    expect(events.find((event) => event.type === 'CommandRejected')).toMatchObject({
      executionId: run.executionId,
      fromStatus: 'Scheduled',
      toStatus: 'Retrying',
      actor: `node:${run.nodeId}`,
      data: including({ code: 'bad-signature', reason: 'refused: bad-signature' }),
    });
    expect(await nodeEvents(run.nodeId)).toEqual([
      {
        type: 'CommandRejected',
        org_id: run.orgId,
        data: including({ commandType: 'ExecuteTask', code: 'bad-signature' }),
      },
    ]);
  });

  it.each([
    ['a CancelTask', 'CancelTask', 'expired'],
    ['a replayed ExecuteTask', 'ExecuteTask', 'replayed'],
  ] as const)('%s refused is recorded and changes no state', async (_, commandType, code) => {
    const run = await enrolledRun();
    expect((await record([rejection(run, commandType, code)], run.sender))[0]?.outcome).toBe('applied');
    expect(await rows(run)).toMatchObject({ status: 'Dispatched', task_status: 'Scheduled' });
    const events = await listTaskEvents(deps, actorOf(run.orgId), run.taskId);
    expect(events.find((event) => event.type === 'CommandRejected')).toMatchObject({
      fromStatus: null,
      toStatus: null,
      data: including({ commandType, code }),
    });
    expect((await nodeEvents(run.nodeId)).map((event) => event.type)).toEqual(['CommandRejected']);
  });

  it('is refused from a node that does not run the execution, and ends nothing', async () => {
    const run = await enrolledRun();
    const other = await enrolledRun();
    const forged = rejection({ ...run, nodeId: other.nodeId }, 'ExecuteTask', 'wrong-node');
    expect((await record([forged], other.sender))[0]?.outcome).toBe('refused');
    expect(await rows(run)).toMatchObject({ status: 'Dispatched', task_status: 'Scheduled' });
    expect(await nodeEvents(other.nodeId)).toEqual([]);
  });
});

describe('log chunks', () => {
  function chunk(run: { nodeId: string; taskId: string; executionId: string }): LogChunkMessage {
    return {
      messageId: randomUUID(),
      type: 'LogChunk',
      schemaVersion: 1,
      occurredAt: deps.clock.now().toISOString(),
      correlationId: 'corr-log',
      nodeId: run.nodeId,
      payload: {
        taskId: run.taskId,
        executionId: run.executionId,
        lines: [{ seq: 1, stream: 'stdout', ts: deps.clock.now().toISOString(), text: 'forged' }],
        droppedBytes: 0,
      },
    };
  }

  it('are refused from a sender that may not speak for their node, and stored from their own', async () => {
    const run = await enrolledRun();
    const attacker = await enroll(`attacker-${randomUUID().slice(0, 8)}`, 'org-attacker');
    const store = (sender: MessageSender) =>
      storeReceivedLogChunks(deps, [{ message: chunk(run), sender }], { maxBytes: 65_536 });
    expect((await store(attacker))[0]).toMatchObject({
      outcome: 'refused',
      reason: containing(`may not speak for node ${run.nodeId}`),
      newLines: 0,
    });
    expect((await store(ANONYMOUS))[0]?.outcome).toBe('refused');
    const lines = await deps.dataSource.query<unknown[]>(
      `SELECT 1 FROM execution_log_lines WHERE execution_id = $1`,
      [run.executionId],
    );
    expect(lines).toEqual([]);
    expect((await store(run.sender))[0]).toMatchObject({ outcome: 'stored', newLines: 1 });
  });
});
