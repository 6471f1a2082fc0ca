// First: @hono/zod-openapi adds `.openapi()` to zod schemas built after it (the contracts' too).
import '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import type { Execution, ExecutionList } from '@meridian/contracts/api/execution';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task } from '@meridian/contracts/api/task';
import { MAX_QUEUED_RUNS, type TriggerResponse } from '@meridian/contracts/api/task-run';
import {
  call,
  completedTask,
  createTask,
  deps,
  dispatch,
  eventsOf,
  executionsOf,
  finish,
  freshOrg,
  json,
  runsOf,
  startQueued,
  taskRow,
  useRunsFixture,
} from './runs.fixture.js';

useRunsFixture();

const trigger = (orgId: string, taskId: string, body?: unknown, route: 'trigger' | 'execute' = 'trigger') =>
  call(orgId, 'POST', `/tasks/${taskId}/${route}`, { body });

describe('POST /api/v1/tasks/{id}/trigger on a finished task', () => {
  it('starts a second run whose first execution carries the announced id, recorded in order', async () => {
    const { org, task } = await completedTask();
    const context = { deploy: 'v2', hosts: ['a', 'b'] };
    const response = await trigger(org.orgId, task.id, { context, triggerReason: 'hotfix' });
    const accepted = await json<TriggerResponse>(response, 202);
    expect(accepted).toMatchObject({
      taskId: task.id,
      runNumber: 2,
      queued: false,
      status: 'Pending',
      estimatedCompletion: expect.any(String) as unknown,
    });
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/executions/${accepted.executionId}`);
    expect(response.headers.get('Idempotent-Replayed')).toBeNull();
    // Announced, not yet sent.
    await json<Problem>(await call(org.orgId, 'GET', `/tasks/executions/${accepted.executionId}`), 404);
    expect(await json<Task>(await call(org.orgId, 'GET', `/tasks/${task.id}`), 200)).toMatchObject({
      status: 'Pending',
      runNumber: 2,
      triggerType: 'manual',
      queuedRuns: 0,
    });

    expect(await dispatch()).toBe(1);
    const execution = await json<Execution>(
      await call(org.orgId, 'GET', `/tasks/executions/${accepted.executionId}`),
      200,
    );
    expect(execution).toMatchObject({
      taskId: task.id,
      attempt: 2,
      runNumber: 2,
      trigger: { type: 'manual', reason: 'hotfix', context },
    });
    await finish(task.id);
    const listed = await json<ExecutionList>(
      await call(org.orgId, 'GET', `/tasks/${task.id}/executions`),
      200,
    );
    expect(listed.items.map((e) => [e.runNumber, e.trigger.type, e.status])).toEqual([
      [1, 'api', 'Completed'],
      [2, 'manual', 'Completed'],
    ]);

    const events = await eventsOf(org.orgId, task.id);
    const fromTrigger = events.slice(events.findIndex((e) => e.type === 'TaskTriggered'));
    expect(fromTrigger.map((e) => [e.type, e.fromStatus, e.toStatus])).toEqual([
      ['TaskTriggered', 'Completed', 'Pending'],
      ['TaskDispatched', 'Pending', 'Scheduled'],
      ['TaskCompleted', 'Scheduled', 'Completed'],
    ]);
    const runs = await runsOf(task.id);
    expect(fromTrigger[0]).toMatchObject({
      executionId: accepted.executionId,
      actor: 'user:user-1',
      metadata: { runId: runs[1]!.id, runNumber: 2, triggerType: 'manual', triggerReason: 'hotfix', context },
    });
    expect(fromTrigger[1]).toMatchObject({
      executionId: accepted.executionId,
      metadata: { runNumber: 2, triggerType: 'manual' },
    });
    expect(runs.map((run) => [run.runNumber, run.triggerType, run.state])).toEqual([
      [1, 'api', 'ended'],
      [2, 'manual', 'current'],
    ]);
  });

  it('takes /execute as the same operation, and no body as an empty one', async () => {
    const { org, task } = await completedTask();
    const accepted = await json<TriggerResponse>(
      await call(org.orgId, 'POST', `/tasks/${task.id}/execute`),
      202,
    );
    expect(accepted).toMatchObject({ runNumber: 2, queued: false, status: 'Pending' });
    const [, run] = await runsOf(task.id);
    expect(run).toMatchObject({ triggerType: 'manual', triggerContext: {}, triggerReason: null });
  });

  it('runs a Failed task again with a fresh set of retries', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId, { maxRetries: 0 });
    await dispatch();
    await finish(task.id, 'TaskFailed');
    expect((await taskRow(task.id)).status).toBe('Failed');
    await json<TriggerResponse>(await trigger(org.orgId, task.id), 202);
    expect(await taskRow(task.id)).toMatchObject({ status: 'Pending', retryCount: 0, completedAt: null });
  });
});

describe('estimatedCompletion', () => {
  it('is null without history, then the start plus the median of the type’s completed durations', async () => {
    const type = `Estimate${Date.now()}`;
    const stranger = await freshOrg();
    const elsewhere = await createTask(stranger.orgId, { type });
    await dispatch();
    await finish(elsewhere.id, 'TaskCompleted', 1);
    const org = await freshOrg();
    const task = await createTask(org.orgId, { type });
    await dispatch();
    await finish(task.id, 'TaskFailed', 999_999);
    const first = await json<TriggerResponse>(await trigger(org.orgId, task.id), 202);
    expect(first.estimatedCompletion).toBeNull();

    for (const durationMs of [4000, 1000, 60_000]) {
      const other = await createTask(org.orgId, { type });
      await dispatch();
      await finish(other.id, 'TaskCompleted', durationMs);
    }
    // The first task's run 2 is still Pending: dispatch and complete it too (2000 ms).
    await dispatch();
    await finish(task.id, 'TaskCompleted', 2000);
    const second = await json<TriggerResponse>(await trigger(org.orgId, task.id), 202);
    // Median of 4000, 1000, 60000, 2000 = (2000 + 4000) / 2; another org's durations do not count.
    expect(second.estimatedCompletion).toBe(new Date(deps.clock.now().getTime() + 3000).toISOString());
  });

  it('looks at the latest 20 completed executions only', async () => {
    const type = `Latest${Date.now()}`;
    const org = await freshOrg();
    const durations = [...Array<number>(20).fill(100_000), ...Array<number>(20).fill(5000)];
    let last: Task | undefined;
    for (const durationMs of durations) {
      last = await createTask(org.orgId, { type });
      await dispatch();
      await finish(last.id, 'TaskCompleted', durationMs);
      deps.clock.advance(1);
    }
    // With the older 100 s runs counted, the median would be 52.5 s.
    const accepted = await json<TriggerResponse>(await trigger(org.orgId, last!.id), 202);
    expect(accepted.estimatedCompletion).toBe(new Date(deps.clock.now().getTime() + 5000).toISOString());
  });
});

describe('queue: true', () => {
  it('queues a run behind a running one, which starts when the task is idle', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    await dispatch();
    const queued = await json<TriggerResponse>(
      await trigger(org.orgId, task.id, { queue: true, context: { n: 1 } }),
      202,
    );
    expect(queued).toMatchObject({ runNumber: 2, queued: true, status: 'Scheduled' });
    expect(await json<Task>(await call(org.orgId, 'GET', `/tasks/${task.id}`), 200)).toMatchObject({
      status: 'Scheduled',
      runNumber: 1,
      queuedRuns: 1,
    });
    // Nothing to start while the first run holds the task.
    expect(await startQueued()).toBe(0);

    await finish(task.id);
    expect(await startQueued()).toBe(1);
    expect(await taskRow(task.id)).toMatchObject({
      status: 'Pending',
      queuedRunCount: 0,
      triggerType: 'manual',
      nextExecutionId: queued.executionId,
    });
    expect(await dispatch()).toBe(1);
    const executions = await executionsOf(task.id);
    expect(executions.map((e) => [e.id === queued.executionId, e.runNumber, e.triggerType])).toEqual([
      [false, 1, 'api'],
      [true, 2, 'manual'],
    ]);
    expect(executions[1]!.triggerContext).toEqual({ n: 1 });

    const events = await eventsOf(org.orgId, task.id);
    expect(
      events
        .filter((e) => e.executionId === queued.executionId)
        .map((e) => [e.type, e.fromStatus, e.toStatus]),
    ).toEqual([
      ['TaskTriggered', 'Scheduled', 'Scheduled'],
      ['TaskQueued', 'Completed', 'Pending'],
      ['TaskDispatched', 'Pending', 'Scheduled'],
    ]);
    const promoted = events.find((e) => e.type === 'TaskQueued' && e.executionId === queued.executionId);
    expect(promoted).toMatchObject({
      actor: 'system:queued-runs',
      metadata: { runNumber: 2, triggerType: 'manual', context: { n: 1 } },
    });
    expect((await runsOf(task.id)).map((run) => run.state)).toEqual(['ended', 'current']);
  });

  it('starts queued runs one at a time, oldest first', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    await dispatch();
    const second = await json<TriggerResponse>(await trigger(org.orgId, task.id, { queue: true }), 202);
    const third = await json<TriggerResponse>(await trigger(org.orgId, task.id, { queue: true }), 202);
    expect([second.runNumber, third.runNumber]).toEqual([2, 3]);
    for (const expected of [second, third]) {
      await finish(task.id);
      expect(await startQueued()).toBe(1);
      expect(await startQueued()).toBe(0);
      await dispatch();
      expect((await taskRow(task.id)).currentExecutionId).toBe(expected.executionId);
    }
  });

  it(`refuses a run beyond ${MAX_QUEUED_RUNS} queued with 409`, async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    for (let i = 0; i < MAX_QUEUED_RUNS; i += 1) {
      await json<TriggerResponse>(await trigger(org.orgId, task.id, { queue: true }), 202);
    }
    const problem = await json<Problem>(await trigger(org.orgId, task.id, { queue: true }), 409);
    expect(problem.detail).toMatch(/already has 10 runs queued/);
    expect((await taskRow(task.id)).queuedRunCount).toBe(MAX_QUEUED_RUNS);
  });

  it('leaves queued runs waiting while the task is paused or being paused', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    await dispatch();
    await json<TriggerResponse>(await trigger(org.orgId, task.id, { queue: true }), 202);
    await finish(task.id);
    // Pause and its sweep belong to the reschedule routes; the columns they set are enough here.
    await deps.dataSource.query(`UPDATE tasks SET pause_requested_at = now() WHERE id = $1`, [task.id]);
    expect(await startQueued()).toBe(0);
    await deps.dataSource.query(
      `UPDATE tasks SET status = 'Paused', paused_from = 'Completed', pause_requested_at = NULL WHERE id = $1`,
      [task.id],
    );
    expect(await startQueued()).toBe(0);
    await deps.dataSource.query(`UPDATE tasks SET status = 'Completed', paused_from = NULL WHERE id = $1`, [
      task.id,
    ]);
    expect(await startQueued()).toBe(1);
  });

  it('passes over a task another transaction holds, and starts the others', async () => {
    const org = await freshOrg();
    const [held, free] = [await createTask(org.orgId), await createTask(org.orgId)];
    await dispatch();
    for (const task of [held, free]) {
      await json<TriggerResponse>(await trigger(org.orgId, task.id, { queue: true }), 202);
      await finish(task.id);
    }
    const runner = deps.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [held.id]);
      expect(await startQueued()).toBe(1);
      expect((await taskRow(free.id)).status).toBe('Pending');
      expect((await taskRow(held.id)).status).toBe('Completed');
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await startQueued()).toBe(1);
  });
});

describe('refusals', () => {
  it('answers 409 naming the status and `queue: true` for a run in progress, and records TransitionRejected', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    const response = await trigger(org.orgId, task.id, { context: { a: 1 } });
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = await json<Problem>(response, 409);
    expect(problem.detail).toBe(
      'the task is Pending: a run is in progress; send "queue": true to queue this run behind it',
    );
    const last = (await eventsOf(org.orgId, task.id)).at(-1);
    expect(last).toMatchObject({
      type: 'TransitionRejected',
      fromStatus: 'Pending',
      metadata: { event: 'Trigger', queue: false },
    });
    expect(await runsOf(task.id)).toHaveLength(1);
  });

  it.each([
    ['Cancelled', /Cancelled: a cancelled task does not run again/],
    ['Paused', /Paused: resume it/],
  ])('answers 409 for a %s task, with or without queue', async (status, detail) => {
    const { org, task } = await completedTask();
    if (status === 'Cancelled') {
      await deps.dataSource.query(`UPDATE tasks SET status = 'Cancelled' WHERE id = $1`, [task.id]);
    } else {
      await deps.dataSource.query(
        `UPDATE tasks SET status = 'Paused', paused_from = 'Completed' WHERE id = $1`,
        [task.id],
      );
    }
    for (const queue of [false, true]) {
      const problem = await json<Problem>(await trigger(org.orgId, task.id, { queue }), 409);
      expect(problem.detail).toMatch(detail);
    }
    expect(await runsOf(task.id)).toHaveLength(1);
  });

  it('answers 404 for another organisation’s task and for an unknown one, and records nothing', async () => {
    const { org, task } = await completedTask();
    const stranger = await freshOrg();
    for (const route of ['trigger', 'execute'] as const) {
      const problem = await json<Problem>(await trigger(stranger.orgId, task.id, {}, route), 404);
      expect(problem.status).toBe(404);
    }
    await json<Problem>(await trigger(org.orgId, '7d9f0c3e-0000-4000-8000-000000000000'), 404);
    expect((await taskRow(task.id)).status).toBe('Completed');
    expect((await eventsOf(org.orgId, task.id)).map((e) => e.type)).not.toContain('TransitionRejected');
  });

  it.each([
    [{ colour: 'blue' }, 'body.colour'],
    [{ queue: 'yes' }, 'body.queue'],
    [{ context: [1, 2] }, 'body.context'],
    [{ triggerReason: '' }, 'body.triggerReason'],
  ])('answers 400 naming the field for %j, and starts nothing', async (body, field) => {
    const { org, task } = await completedTask();
    const problem = await json<Problem>(await trigger(org.orgId, task.id, body), 400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await runsOf(task.id)).toHaveLength(1);
  });

  it('answers 403 naming task:trigger to a caller without it', async () => {
    const { org, task } = await completedTask();
    const response = await call(org.orgId, 'POST', `/tasks/${task.id}/trigger`, {
      body: {},
      permissions: ['task:read', 'task:write'],
    });
    const problem = await json<Problem>(response, 403);
    expect(problem.detail).toContain('task:trigger');
  });
});
