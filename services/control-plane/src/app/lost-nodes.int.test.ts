import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTaskBody } from '@meridian/contracts/api/task';
import { actorOf, createTestAppDeps, heartbeat, report } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { cancelTask } from './cancel-task.js';
import { createTask } from './create-task.js';
import { dispatchPendingTasks } from './dispatch-pending-tasks.js';
import { giveUpLostNodes } from './give-up-lost-nodes.js';
import { getNode } from './node-queries.js';
import { recordAgentMessages } from './record-agent-messages.js';
import { listTaskEvents } from './task-queries.js';
import { saveEnrolledNode } from '../persistence/enrolled-nodes.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

const LOST_AFTER_MS = 30_000;

const body = (overrides: Partial<CreateTaskBody> = {}): CreateTaskBody => ({
  type: 'Command',
  name: 'work',
  priority: 'Normal',
  targetType: 'Service',
  targetId: 'target-1',
  payload: { command: ['echo', 'hi'] },
  metadata: {},
  ...overrides,
});

let orgCounter = 0;
/** An organisation of its own with one node (a), and a second node (b) that comes online later. */
function freshOrg() {
  orgCounter += 1;
  const orgId = `org-lost-${orgCounter}-${Date.now()}`;
  const a = `node-a-${orgCounter}-${Date.now()}`;
  const b = `node-b-${orgCounter}-${Date.now()}`;
  const beat = (nodeId: string, capacity = 10) =>
    recordAgentMessages(deps, [heartbeat(nodeId, orgId, capacity, deps.clock.now())]);
  return { orgId, a, b, actor: actorOf(orgId), beat };
}

const tasks = () => deps.dataSource.getRepository(TaskEntity);
const executions = () => deps.dataSource.getRepository(ExecutionEntity);

async function current(taskId: string) {
  const task = await tasks().findOneByOrFail({ id: taskId });
  const execution = await executions().findOneByOrFail({ id: task.currentExecutionId! });
  return { task, execution, ref: { taskId, executionId: execution.id, nodeId: execution.nodeId } };
}

async function outboxFor(executionId: string) {
  const rows: { type: string; routing_key: string; message_id: string }[] = await deps.dataSource.query(
    `SELECT type, routing_key, message_id FROM outbox WHERE body->'payload'->>'executionId' = $1 ORDER BY id`,
    [executionId],
  );
  return rows;
}

async function nodeEvents(nodeId: string) {
  const rows: { type: string; data: Record<string, unknown> }[] = await deps.dataSource.query(
    `SELECT type, data FROM node_events WHERE node_id = $1 ORDER BY id`,
    [nodeId],
  );
  return rows;
}

describe('lost nodes', () => {
  it('gives up a lost node’s executions (AgentLost), frees its slots and retries the tasks on another node', async () => {
    const org = freshOrg();
    await org.beat(org.a, 2);
    const t1 = await createTask(deps, org.actor, body({ name: 't1' }));
    const t2 = await createTask(deps, org.actor, body({ name: 't2' }));
    await dispatchPendingTasks(deps, 100);
    const first = [await current(t1.id), await current(t2.id)];
    expect(first.map((c) => c.execution.nodeId)).toEqual([org.a, org.a]);
    await recordAgentMessages(deps, [report('TaskStarted', first[0]!.ref, 0)]);

    // Node a falls silent; node b appears, and keeps beating.
    deps.clock.advance(LOST_AFTER_MS - 1000);
    await org.beat(org.b);
    await giveUpLostNodes(deps, 1000);
    expect((await getNode(deps, org.actor, org.a)).status).toBe('offline');
    expect((await current(t2.id)).execution.status).toBe('Dispatched');
    deps.clock.advance(1001);
    await org.beat(org.b);
    await giveUpLostNodes(deps, 1000);

    const node = await getNode(deps, org.actor, org.a);
    expect(node).toMatchObject({ status: 'lost', runningCount: 0, lostAt: deps.clock.now().toISOString() });
    expect(await nodeEvents(org.a)).toEqual([
      { type: 'NodeLost', data: expect.objectContaining({ lostAfterSeconds: 30 }) as unknown },
    ]);
    for (const { ref } of first) {
      const { task, execution } = await current(ref.taskId);
      expect(execution).toMatchObject({ id: ref.executionId, status: 'AgentLost' });
      expect(execution.releasedAt).toEqual(deps.clock.now());
      expect(task).toMatchObject({ status: 'Retrying', retryCount: 1 });
      expect(task.runAfter.getTime() - deps.clock.now().getTime()).toBe(5000);
      const outbox = await outboxFor(ref.executionId);
      expect(outbox.map((row) => [row.type, row.routing_key])).toEqual([
        ['ExecuteTask', deps.topology.nodeWorkKey(org.a)],
        ['CancelTask', deps.topology.nodeControlKey(org.a)],
      ]);
    }
    const events = await listTaskEvents(deps, org.actor, t1.id);
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionLost',
      fromStatus: 'Running',
      toStatus: 'Retrying',
      actor: 'system:lost-node-sweep',
      data: expect.objectContaining({ nodeId: org.a, executionStatus: 'Running' }) as unknown,
    });
    // A second pass finds nothing more to do.
    await giveUpLostNodes(deps, 1000);
    expect(await listTaskEvents(deps, org.actor, t1.id)).toHaveLength(events.length);
    expect(await nodeEvents(org.a)).toHaveLength(1);

    deps.clock.advance(5000);
    await org.beat(org.b);
    expect(await dispatchPendingTasks(deps, 100)).toBeGreaterThanOrEqual(2);
    for (const taskId of [t1.id, t2.id]) {
      const { task, execution, ref } = await current(taskId);
      expect(task).toMatchObject({ status: 'Scheduled', attemptCount: 2 });
      expect(execution.nodeId).toBe(org.b);
      await recordAgentMessages(deps, [report('TaskCompleted', ref, 0, { exitCode: 0, durationMs: 1 })]);
      expect((await tasks().findOneByOrFail({ id: taskId })).status).toBe('Completed');
    }
  });

  it('keeps a pinned task for its node, and dispatches it there when the node returns', async () => {
    const org = freshOrg();
    await org.beat(org.a);
    await org.beat(org.b);
    const pinned = await createTask(deps, org.actor, body({ nodeId: org.a }));
    await dispatchPendingTasks(deps, 100);
    const before = await current(pinned.id);
    expect(before.execution.nodeId).toBe(org.a);

    deps.clock.advance(LOST_AFTER_MS + 1);
    await org.beat(org.b);
    await giveUpLostNodes(deps, 1000);
    expect((await current(pinned.id)).task.status).toBe('Retrying');

    // Past the backoff, with b online and free: the task still waits for a.
    deps.clock.advance(60_000);
    await org.beat(org.b);
    await dispatchPendingTasks(deps, 100);
    expect((await tasks().findOneByOrFail({ id: pinned.id })).status).toBe('Retrying');

    await org.beat(org.a);
    expect((await getNode(deps, org.actor, org.a)).status).toBe('online');
    expect((await nodeEvents(org.a)).map((e) => e.type)).toEqual(['NodeLost', 'NodeReturned']);
    await dispatchPendingTasks(deps, 100);
    const after = await current(pinned.id);
    expect(after.task).toMatchObject({ status: 'Scheduled', attemptCount: 2 });
    expect(after.execution.nodeId).toBe(org.a);
    expect(after.execution.id).not.toBe(before.execution.id);
  });

  it('records a late report from the lost node, changes nothing, and tells the node to cancel, once', async () => {
    const org = freshOrg();
    await org.beat(org.a);
    const created = await createTask(deps, org.actor, body());
    await dispatchPendingTasks(deps, 100);
    const { ref } = await current(created.id);
    await recordAgentMessages(deps, [report('TaskAccepted', ref, 0), report('TaskStarted', ref, 1)]);
    deps.clock.advance(LOST_AFTER_MS + 1);
    await giveUpLostNodes(deps, 1000);
    const lost = await current(created.id);
    expect(lost.execution.status).toBe('AgentLost');
    const outboxBefore = await outboxFor(ref.executionId);

    // The agent comes back: it beats, and reports on the execution it kept running.
    await org.beat(org.a);
    const late = await recordAgentMessages(deps, [
      report('TaskProgress', ref, 2, { percent: 10 }),
      report('TaskProgress', ref, 3, { percent: 20 }),
    ]);
    expect(late.map((r) => r.outcome)).toEqual(['ignored', 'ignored']);
    expect(late[0]!.reason).toMatch(/already AgentLost: given up/);
    const more = await recordAgentMessages(deps, [report('TaskProgress', ref, 4, { percent: 30 })]);
    expect(more[0]!.outcome).toBe('ignored');
    const completed = await recordAgentMessages(deps, [
      report('TaskCompleted', ref, 5, { exitCode: 0, durationMs: 1 }),
    ]);
    expect(completed[0]!.outcome).toBe('ignored');

    const after = await current(created.id);
    expect(after.execution).toMatchObject({ status: 'AgentLost', lastSequence: 1 });
    expect(after.execution.progressPercent).toBeNull();
    expect(after.task).toMatchObject({ status: lost.task.status, retryCount: lost.task.retryCount });
    const cancels = (await outboxFor(ref.executionId)).slice(outboxBefore.length);
    expect(cancels).toEqual([
      expect.objectContaining({ type: 'CancelTask', routing_key: deps.topology.nodeControlKey(org.a) }),
    ]);
    const ignored = (await listTaskEvents(deps, org.actor, created.id)).filter(
      (e) => e.type === 'ReportIgnored',
    );
    expect(ignored.map((e) => e.data['report'])).toEqual([
      'TaskProgress',
      'TaskProgress',
      'TaskProgress',
      'TaskCompleted',
    ]);
    expect(ignored[0]!.data['reason']).toMatch(/AgentLost/);
  });

  it('ends the task Failed with MaxRetriesReached when its retries are used up', async () => {
    const org = freshOrg();
    await org.beat(org.a);
    const created = await createTask(deps, org.actor, body({ maxRetries: 0 }));
    await dispatchPendingTasks(deps, 100);
    deps.clock.advance(LOST_AFTER_MS + 1);
    await giveUpLostNodes(deps, 1000);
    const { task, execution } = await current(created.id);
    expect(task.status).toBe('Failed');
    expect(task.completedAt).toEqual(deps.clock.now());
    expect(execution.status).toBe('AgentLost');
    const events = await listTaskEvents(deps, org.actor, created.id);
    expect(events.slice(-2).map((e) => [e.type, e.toStatus])).toEqual([
      ['ExecutionLost', 'Failed'],
      ['MaxRetriesReached', null],
    ]);
    expect(events.at(-1)!.data).toEqual({ retriesUsed: 0, maxRetries: 0, cause: 'NodeLost' });
  });

  it('never declares lost an enrolled node that has not connected yet, nor a revoked one', async () => {
    const { orgId, a, b, actor, beat } = freshOrg();
    await deps.dataSource.transaction((manager) =>
      saveEnrolledNode(manager, {
        nodeId: a,
        orgId,
        agentVersion: '2.0.0',
        protocolVersion: 2,
        labels: {},
        now: deps.clock.now(),
      }),
    );
    await beat(b);
    await deps.dataSource.query(`UPDATE nodes SET revoked_at = $2 WHERE id = $1`, [b, deps.clock.now()]);
    deps.clock.advance(LOST_AFTER_MS + 1000);
    await giveUpLostNodes(deps, 100);
    expect(await getNode(deps, actor, a)).toMatchObject({ status: 'offline', lostAt: null, enrolled: false });
    expect(await getNode(deps, actor, b)).toMatchObject({ status: 'revoked', lostAt: null });
    expect(await nodeEvents(a)).toEqual([]);
    expect(await nodeEvents(b)).toEqual([]);
  });

  it('gives up each execution once when several replicas sweep at the same time', async () => {
    const org = freshOrg();
    await org.beat(org.a, 10);
    const created = [];
    for (let i = 0; i < 10; i += 1) created.push(await createTask(deps, org.actor, body({ name: `c${i}` })));
    await dispatchPendingTasks(deps, 100);
    deps.clock.advance(LOST_AFTER_MS + 1);
    await Promise.all([giveUpLostNodes(deps, 7), giveUpLostNodes(deps, 7), giveUpLostNodes(deps, 7)]);
    // Passes that found their batch full come back for the rest, as the work loop does.
    while ((await giveUpLostNodes(deps, 7)) > 0);
    const ids = created.map((t) => t.id);
    const lost: { task_id: string; count: string }[] = await deps.dataSource.query(
      `SELECT task_id, count(*) AS count FROM task_events
        WHERE type = 'ExecutionLost' AND task_id = ANY($1::uuid[]) GROUP BY task_id`,
      [ids],
    );
    expect(lost.map((row) => Number(row.count))).toEqual(ids.map(() => 1));
    const rows = await tasks().findBy(ids.map((id) => ({ id })));
    expect(rows.every((row) => row.status === 'Retrying' && row.retryCount === 1)).toBe(true);
    expect(await nodeEvents(org.a)).toHaveLength(1);
  });

  it('frees the slot of an execution being cancelled, and leaves its cancelled task alone', async () => {
    const org = freshOrg();
    await org.beat(org.a);
    const created = await createTask(deps, org.actor, body());
    await dispatchPendingTasks(deps, 100);
    await cancelTask(deps, org.actor, created.id, 'stop');
    deps.clock.advance(LOST_AFTER_MS + 1);
    await giveUpLostNodes(deps, 1000);
    const { task, execution } = await current(created.id);
    expect(task.status).toBe('Cancelled');
    expect(execution.status).toBe('AgentLost');
    expect(execution.releasedAt).not.toBeNull();
  });
});
