import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTaskBody, Task } from '@meridian/contracts/api/task';
import { actorOf, createTestAppDeps, heartbeat, report } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import type { AppDeps } from './app-deps.js';
import { cancelTask } from './cancel-task.js';
import { createTask } from './create-task.js';
import { dispatchPendingTasks } from './dispatch-pending-tasks.js';
import { expireOverdueExecutions } from './expire-overdue-executions.js';
import { recordAgentMessages } from './record-agent-messages.js';
import { purgeExpiredRecords } from './purge-expired-records.js';
import { retryTask } from './retry-task.js';
import { listTaskEvents } from './task-queries.js';
import { getNode } from './node-queries.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

const body = (overrides: Partial<CreateTaskBody> = {}): CreateTaskBody => ({
  type: 'Echo',
  name: 'echo',
  priority: 'Normal',
  targetType: 'Service',
  targetId: 'target-1',
  payload: {},
  metadata: {},
  ...overrides,
});

let orgCounter = 0;
/** Each test gets an organisation and node of its own, so tests do not see each other's rows. */
async function freshOrg(capacity = 10) {
  orgCounter += 1;
  const orgId = `org-${orgCounter}-${Date.now()}`;
  const nodeId = `node-${orgCounter}-${Date.now()}`;
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, capacity, deps.clock.now())]);
  return { orgId, nodeId, actor: actorOf(orgId) };
}

async function executionOf(deps: AppDeps, taskId: string) {
  const task = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: taskId });
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneByOrFail({ id: task.currentExecutionId! });
  return { task, execution, ref: { taskId, executionId: execution.id, nodeId: execution.nodeId } };
}

describe('task lifecycle on a real database', () => {
  it('runs created → pending → scheduled → running → completed with one event per step', async () => {
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body());
    expect(created.status).toBe('Pending');
    expect(await dispatchPendingTasks(deps, 100)).toBeGreaterThanOrEqual(1);
    const { ref } = await executionOf(deps, created.id);
    await recordAgentMessages(deps, [
      report('TaskAccepted', ref, 0),
      report('TaskStarted', ref, 1),
      report('TaskCompleted', ref, 2, {
        exitCode: 0,
        durationMs: 5,
        output: { stdout: 'hello\n', stderr: '', truncatedBytes: 0 },
      }),
    ]);
    const { task, execution } = await executionOf(deps, created.id);
    expect(task.status).toBe('Completed');
    expect(execution).toMatchObject({ status: 'Completed', exitCode: 0, output: 'hello\n', lastSequence: 2 });
    expect(execution.releasedAt).not.toBeNull();
    const events = await listTaskEvents(deps, actor, created.id);
    expect(events.map((e) => [e.type, e.toStatus])).toEqual([
      ['TaskCreated', 'Created'],
      ['TaskQueued', 'Pending'],
      ['TaskDispatched', 'Scheduled'],
      ['TaskAccepted', null],
      ['TaskStarted', 'Running'],
      ['TaskCompleted', 'Completed'],
    ]);
    expect(new Set(events.map((e) => e.correlationId)).has(actor.correlationId)).toBe(true);
  });

  it('applies a duplicate message once and a stale report not at all', async () => {
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body());
    await dispatchPendingTasks(deps, 100);
    const { ref } = await executionOf(deps, created.id);
    const completed = report('TaskCompleted', ref, 2, { exitCode: 0, durationMs: 1 });
    expect((await recordAgentMessages(deps, [completed]))[0]!.outcome).toBe('applied');
    expect((await recordAgentMessages(deps, [completed]))[0]!.outcome).toBe('duplicate');
    // A start report a completion overtook is recorded (record-agent-messages.int.test.ts); a
    // progress report that old changes nothing.
    const stale = await recordAgentMessages(deps, [report('TaskProgress', ref, 1, { percent: 50 })]);
    expect(stale[0]).toMatchObject({ outcome: 'ignored' });
    const { task } = await executionOf(deps, created.id);
    expect(task.status).toBe('Completed');
    const types = (await listTaskEvents(deps, actor, created.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'TaskCompleted')).toHaveLength(1);
    expect(types).toContain('ReportIgnored');
  });

  it('orders reports of one batch by sequence, not by arrival', async () => {
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body());
    await dispatchPendingTasks(deps, 100);
    const { ref } = await executionOf(deps, created.id);
    await recordAgentMessages(deps, [
      report('TaskCompleted', ref, 2, { exitCode: 0, durationMs: 1 }),
      report('TaskStarted', ref, 1),
    ]);
    const { task } = await executionOf(deps, created.id);
    expect(task.status).toBe('Completed');
    expect(task.startedAt).not.toBeNull();
  });

  it('records a report for an unknown execution and changes nothing', async () => {
    const { nodeId } = await freshOrg();
    const ref = { taskId: crypto.randomUUID(), executionId: crypto.randomUUID(), nodeId };
    const [result] = await recordAgentMessages(deps, [
      report('TaskCompleted', ref, 0, { exitCode: 0, durationMs: 1 }),
    ]);
    expect(result).toMatchObject({ outcome: 'ignored', reason: 'unknown execution' });
    const rows: { outcome: string }[] = await deps.dataSource.query(
      'SELECT outcome FROM processed_messages WHERE message_id = $1',
      [result!.messageId],
    );
    expect(rows).toEqual([{ outcome: 'ignored' }]);
  });

  it('retries a retryable failure after the backoff, then fails for good when retries run out', async () => {
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body({ maxRetries: 1 }));
    await dispatchPendingTasks(deps, 100);
    let { ref } = await executionOf(deps, created.id);
    await recordAgentMessages(deps, [
      report('TaskFailed', ref, 1, { error: 'boom', exitCode: 1, retryable: true }),
    ]);
    let { task } = await executionOf(deps, created.id);
    expect(task.status).toBe('Retrying');
    expect(task.runAfter.getTime() - deps.clock.now().getTime()).toBe(5000);
    expect(await dispatchPendingTasks(deps, 100)).toBe(0);
    deps.clock.advance(5000);
    expect(await dispatchPendingTasks(deps, 100)).toBe(1);
    ({ ref, task } = await executionOf(deps, created.id));
    expect(task).toMatchObject({ status: 'Scheduled', attemptCount: 2 });
    await recordAgentMessages(deps, [
      report('TaskFailed', ref, 1, { error: 'boom', exitCode: 1, retryable: true }),
    ]);
    ({ task } = await executionOf(deps, created.id));
    expect(task.status).toBe('Failed');
    const retried = await retryTask(deps, actor, created.id);
    expect(retried.status).toBe('Pending');
  });

  it('never dispatches more than a node’s capacity, and dispatches more as slots free up', async () => {
    const { actor } = await freshOrg(2);
    const tasks: Task[] = [];
    for (let i = 0; i < 5; i += 1) tasks.push(await createTask(deps, actor, body({ name: `t${i}` })));
    await dispatchPendingTasks(deps, 100);
    const scheduled = async () =>
      (
        await Promise.all(
          tasks.map((t) => deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: t.id })),
        )
      ).filter((t) => t.status === 'Scheduled');
    const first = await scheduled();
    expect(first).toHaveLength(2);
    const { ref } = await executionOf(deps, first[0]!.id);
    await recordAgentMessages(deps, [report('TaskCompleted', ref, 0, { exitCode: 0, durationMs: 1 })]);
    await dispatchPendingTasks(deps, 100);
    expect(await scheduled()).toHaveLength(2);
  });

  it('cancels a running task: Cancelled at once, CancelTask queued, slot freed when the agent confirms', async () => {
    const { actor } = await freshOrg(1);
    const created = await createTask(deps, actor, body());
    await dispatchPendingTasks(deps, 100);
    const { ref } = await executionOf(deps, created.id);
    await recordAgentMessages(deps, [report('TaskStarted', ref, 0)]);
    const cancelled = await cancelTask(deps, actor, created.id, 'stop');
    expect(cancelled.status).toBe('Cancelled');
    const outbox: { type: string; routing_key: string }[] = await deps.dataSource.query(
      `SELECT type, routing_key FROM outbox WHERE body->'payload'->>'executionId' = $1 ORDER BY id`,
      [ref.executionId],
    );
    expect(outbox.map((row) => row.type)).toEqual(['ExecuteTask', 'CancelTask']);
    expect(outbox[1]!.routing_key).toBe(deps.topology.nodeControlKey(ref.nodeId));
    let { execution } = await executionOf(deps, created.id);
    expect(execution).toMatchObject({ status: 'Cancelling', releasedAt: null });
    await recordAgentMessages(deps, [report('TaskCancelled', ref, 1, { reason: 'stop', exitCode: null })]);
    ({ execution } = await executionOf(deps, created.id));
    expect(execution.status).toBe('Cancelled');
    expect(execution.releasedAt).not.toBeNull();
    await expect(cancelTask(deps, actor, created.id)).rejects.toMatchObject({ code: 'conflict' });
    const types = (await listTaskEvents(deps, actor, created.id)).map((e) => e.type);
    expect(types).toContain('TransitionRejected');
  });

  it('times out an execution whose deadline passed without an end report', async () => {
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body({ timeoutSeconds: 10, maxRetries: 0 }));
    await dispatchPendingTasks(deps, 100);
    deps.clock.advance(10_000 + 30_000 + 1);
    expect(await expireOverdueExecutions(deps, 100)).toBeGreaterThanOrEqual(1);
    const { task, execution } = await executionOf(deps, created.id);
    expect(task.status).toBe('Timeout');
    expect(execution.status).toBe('Timeout');
    expect(execution.releasedAt).not.toBeNull();
  });

  it('keeps task_events append-only in the database itself', async () => {
    // Events of its own: the row triggers have nothing to refuse in an empty table.
    const { actor } = await freshOrg();
    const created = await createTask(deps, actor, body());
    await expect(
      deps.dataSource.query('DELETE FROM task_events WHERE task_id = $1', [created.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      deps.dataSource.query(`UPDATE task_events SET type = 'x' WHERE task_id = $1`, [created.id]),
    ).rejects.toThrow(/append-only/);
  });

  it('purges dedupe records and sent outbox rows past retention, and nothing newer', async () => {
    const now = deps.clock.now();
    const old = new Date(now.getTime() - 31 * 86_400_000);
    const oldId = crypto.randomUUID();
    const newId = crypto.randomUUID();
    await deps.dataSource.query(
      `INSERT INTO processed_messages (message_id, type, node_id, outcome, processed_at)
       VALUES ($1, 'TaskStarted', 'n', 'applied', $3), ($2, 'TaskStarted', 'n', 'applied', $4)`,
      [oldId, newId, old, now],
    );
    await deps.dataSource.query(
      `INSERT INTO outbox (message_id, exchange, routing_key, type, body, correlation_id, published_at)
       VALUES ($1, 'x', 'k', 'ExecuteTask', '{}', 'c', $3), ($2, 'x', 'k', 'ExecuteTask', '{}', 'c', NULL)`,
      [oldId, newId, old],
    );
    expect(await purgeExpiredRecords(deps, 30, 1000)).toBe(2);
    const left: { message_id: string }[] = await deps.dataSource.query(
      `SELECT message_id FROM processed_messages WHERE message_id = ANY($1::uuid[])
       UNION ALL SELECT message_id FROM outbox WHERE message_id = ANY($1::uuid[])`,
      [[oldId, newId]],
    );
    expect(left.map((row) => row.message_id).sort()).toEqual([newId, newId]);
  });

  it('keeps a task Pending while its organisation has no node, and dispatches it when one appears', async () => {
    const orgId = `org-late-${Date.now()}`;
    const actor = actorOf(orgId);
    const created = await createTask(deps, actor, body());
    await dispatchPendingTasks(deps, 100);
    expect((await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: created.id })).status).toBe(
      'Pending',
    );
    await recordAgentMessages(deps, [heartbeat(`node-late-${Date.now()}`, orgId, 1, deps.clock.now())]);
    await dispatchPendingTasks(deps, 100);
    expect((await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: created.id })).status).toBe(
      'Scheduled',
    );
  });

  it('shows a node offline after three missed heartbeats, and sends it no work', async () => {
    const { actor, nodeId } = await freshOrg();
    expect((await getNode(deps, actor, nodeId)).status).toBe('online');
    deps.clock.advance(15_001);
    expect((await getNode(deps, actor, nodeId)).status).toBe('offline');
    const created = await createTask(deps, actor, body());
    await dispatchPendingTasks(deps, 100);
    expect((await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: created.id })).status).toBe(
      'Pending',
    );
  });

  it('refuses a heartbeat that claims another organisation’s node', async () => {
    const { actor, nodeId } = await freshOrg();
    await recordAgentMessages(deps, [heartbeat(nodeId, 'intruder-org', 50, deps.clock.now())]);
    const node = await getNode(deps, actor, nodeId);
    expect(node).toMatchObject({ orgId: actor.orgId, capacity: 10 });
  });
});
