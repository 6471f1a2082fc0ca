import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTaskBody } from '@meridian/contracts/api/task';
import { actorOf, createTestAppDeps, heartbeat, report } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import type { AppDeps } from './app-deps.js';
import { createTask } from './create-task.js';
import { dispatchPendingTasks } from './dispatch-pending-tasks.js';
import { expireOverdueExecutions } from './expire-overdue-executions.js';
import { recordAgentMessages } from './record-agent-messages.js';
import { getTask, listTaskEvents } from './task-queries.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

/** The deadline sweep's wait past a deadline (TIMEOUT_GRACE_SECONDS' default). */
const GRACE_MS = 30_000;

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
async function freshOrg() {
  orgCounter += 1;
  const orgId = `org-retry-${orgCounter}-${Date.now()}`;
  const nodeId = `node-retry-${orgCounter}-${Date.now()}`;
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  const beat = () => recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  return { orgId, nodeId, actor: actorOf(orgId), beat };
}

async function current(taskId: string) {
  const task = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: taskId });
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneByOrFail({ id: task.currentExecutionId! });
  return { task, execution, ref: { taskId, executionId: execution.id, nodeId: execution.nodeId } };
}

const untilNextRun = (runAfter: Date) => runAfter.getTime() - deps.clock.now().getTime();

describe('timeouts are retried per policy', () => {
  it('retries a task whose deadline passed (deadline sweep), on the node again after the backoff', async () => {
    const org = await freshOrg();
    const created = await createTask(deps, org.actor, body({ timeoutSeconds: 10 }));
    await dispatchPendingTasks(deps, 100);
    const first = await current(created.id);
    deps.clock.advance(10_000 + GRACE_MS + 1);
    await org.beat();
    await expireOverdueExecutions(deps, 100);
    const { task, execution } = await current(created.id);
    expect(execution).toMatchObject({ id: first.execution.id, status: 'Timeout' });
    expect(execution.releasedAt).not.toBeNull();
    expect(task).toMatchObject({ status: 'Retrying', retryCount: 1, completedAt: null });
    expect(untilNextRun(task.runAfter)).toBe(5000);
    const events = await listTaskEvents(deps, org.actor, created.id);
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionTimedOut',
      fromStatus: 'Scheduled',
      toStatus: 'Retrying',
      actor: 'system:deadline-sweep',
    });
    const cancels: { routing_key: string }[] = await deps.dataSource.query(
      `SELECT routing_key FROM outbox WHERE type = 'CancelTask' AND body->'payload'->>'executionId' = $1`,
      [execution.id],
    );
    expect(cancels).toEqual([{ routing_key: deps.topology.nodeControlKey(org.nodeId) }]);

    deps.clock.advance(5000);
    await org.beat();
    await dispatchPendingTasks(deps, 100);
    expect((await current(created.id)).task).toMatchObject({ status: 'Scheduled', attemptCount: 2 });
  });

  it('retries a task whose agent reported a timeout', async () => {
    const org = await freshOrg();
    const created = await createTask(deps, org.actor, body());
    await dispatchPendingTasks(deps, 100);
    const { ref } = await current(created.id);
    await recordAgentMessages(deps, [
      report('TaskFailed', ref, 0, { error: 'timed out', exitCode: null, retryable: true, timedOut: true }),
    ]);
    const { task, execution } = await current(created.id);
    expect(execution.status).toBe('Timeout');
    expect(task).toMatchObject({ status: 'Retrying', retryCount: 1 });
  });

  it.each([
    ['timeouts are not retried (RETRY_ON_TIMEOUT=false)', false, 3, []],
    ['its retries are used up', true, 0, ['MaxRetriesReached']],
  ])('ends a timed-out task Timeout when %s', async (_name, retryOnTimeout, maxRetries, extra) => {
    const org = await freshOrg();
    const noRetry: AppDeps = { ...deps, retryPolicy: { ...deps.retryPolicy, retryOnTimeout } };
    const agentTimeout = await createTask(deps, org.actor, body({ maxRetries, timeoutSeconds: 10 }));
    const sweepTimeout = await createTask(deps, org.actor, body({ maxRetries, timeoutSeconds: 10 }));
    await dispatchPendingTasks(deps, 100);
    const { ref } = await current(agentTimeout.id);
    await recordAgentMessages(noRetry, [
      report('TaskFailed', ref, 0, { error: 'timed out', exitCode: null, retryable: true, timedOut: true }),
    ]);
    deps.clock.advance(10_000 + GRACE_MS + 1);
    await expireOverdueExecutions(noRetry, 100);
    for (const [taskId, last] of [
      [agentTimeout.id, 'TaskFailed'],
      [sweepTimeout.id, 'ExecutionTimedOut'],
    ] as const) {
      const { task } = await current(taskId);
      expect(task.status).toBe('Timeout');
      expect(task.completedAt).not.toBeNull();
      const events = await listTaskEvents(deps, org.actor, taskId);
      const tail = events.slice(-1 - extra.length);
      expect(tail.map((e) => e.type)).toEqual([last, ...extra]);
      expect(tail[0]!.toStatus).toBe('Timeout');
    }
  });
});

describe('retry policies', () => {
  it('stores a task’s own exponential policy and waits by it', async () => {
    const org = await freshOrg();
    const retryPolicy = { kind: 'exponential', baseSeconds: 40, maxSeconds: 100 } as const;
    const created = await createTask(deps, org.actor, body({ retryPolicy, maxRetries: 5 }));
    expect(created.retryPolicy).toEqual(retryPolicy);
    expect((await getTask(deps, org.actor, created.id)).retryPolicy).toEqual(retryPolicy);
    // Test dependencies draw 0.5: half of min(100, 40 × 2^n).
    for (const [retry, delayMs] of [
      [0, 20_000],
      [1, 40_000],
      [2, 50_000],
    ] as const) {
      await dispatchPendingTasks(deps, 100);
      const { ref } = await current(created.id);
      await recordAgentMessages(deps, [
        report('TaskFailed', ref, 0, { error: 'boom', exitCode: 1, retryable: true }),
      ]);
      const { task } = await current(created.id);
      expect(task).toMatchObject({ status: 'Retrying', retryCount: retry + 1 });
      expect(untilNextRun(task.runAfter)).toBe(delayMs);
      deps.clock.advance(delayMs);
      await org.beat();
    }
  });

  it('keeps the configured policy for a task without one, exponential when configured so', async () => {
    const org = await freshOrg();
    const exponential: AppDeps = {
      ...deps,
      retryPolicy: { ...deps.retryPolicy, backoff: { kind: 'exponential', baseSeconds: 8, maxSeconds: 60 } },
    };
    const created = await createTask(exponential, org.actor, body());
    expect(created.retryPolicy).toBeNull();
    await dispatchPendingTasks(exponential, 100);
    const { ref } = await current(created.id);
    await recordAgentMessages(exponential, [
      report('TaskFailed', ref, 0, { error: 'boom', exitCode: 1, retryable: true }),
    ]);
    expect(untilNextRun((await current(created.id)).task.runAfter)).toBe(4000);
  });

  it('records MaxRetriesReached when a retryable failure finds the retries used up', async () => {
    const org = await freshOrg();
    const created = await createTask(deps, org.actor, body({ maxRetries: 1 }));
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await dispatchPendingTasks(deps, 100);
      const { ref } = await current(created.id);
      await recordAgentMessages(deps, [
        report('TaskFailed', ref, 0, { error: 'boom', exitCode: 1, retryable: true }),
      ]);
      deps.clock.advance(5000);
      await org.beat();
    }
    const { task } = await current(created.id);
    expect(task.status).toBe('Failed');
    const events = await listTaskEvents(deps, org.actor, created.id);
    expect(events.slice(-2).map((e) => [e.type, e.toStatus])).toEqual([
      ['TaskFailed', 'Failed'],
      ['MaxRetriesReached', null],
    ]);
    expect(events.at(-1)!.data).toEqual({ retriesUsed: 1, maxRetries: 1, cause: 'TaskFailed' });
    expect(events.filter((e) => e.type === 'MaxRetriesReached')).toHaveLength(1);
  });

  it('records no MaxRetriesReached for a failure that is not retryable', async () => {
    const org = await freshOrg();
    const created = await createTask(deps, org.actor, body({ maxRetries: 0 }));
    await dispatchPendingTasks(deps, 100);
    const { ref } = await current(created.id);
    await recordAgentMessages(deps, [
      report('TaskFailed', ref, 0, { error: 'bad input', exitCode: 2, retryable: false }),
    ]);
    const types = (await listTaskEvents(deps, org.actor, created.id)).map((e) => e.type);
    expect(types.at(-1)).toBe('TaskFailed');
    expect(types).not.toContain('MaxRetriesReached');
  });
});
