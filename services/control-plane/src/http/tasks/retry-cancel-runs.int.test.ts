import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task } from '@meridian/contracts/api/task';
import type { TriggerResponse } from '@meridian/contracts/api/task-run';
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

describe('POST /api/v1/tasks/{id}/retry', () => {
  it('starts a new run with trigger retry, recorded as TaskRetryRequested, dispatched under its announced id', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId, { maxRetries: 0 });
    await dispatch();
    await finish(task.id, 'TaskFailed');
    const retried = await json<Task>(await call(org.orgId, 'POST', `/tasks/${task.id}/retry`), 200);
    expect(retried).toMatchObject({ status: 'Pending', runNumber: 2, triggerType: 'retry', retryCount: 0 });

    const runs = await runsOf(task.id);
    expect(runs.map((run) => [run.runNumber, run.triggerType, run.state])).toEqual([
      [1, 'api', 'ended'],
      [2, 'retry', 'current'],
    ]);
    const requested = (await eventsOf(org.orgId, task.id)).at(-1);
    expect(requested).toMatchObject({
      type: 'TaskRetryRequested',
      fromStatus: 'Failed',
      toStatus: 'Pending',
      executionId: runs[1]!.firstExecutionId,
      metadata: { runId: runs[1]!.id, runNumber: 2, triggerType: 'retry' },
    });
    await dispatch();
    const second = (await executionsOf(task.id))[1];
    expect(second).toMatchObject({ id: runs[1]!.firstExecutionId, runNumber: 2, triggerType: 'retry' });
  });

  it('answers 409 for a Completed task, as before', async () => {
    const { org, task } = await completedTask();
    await json<Problem>(await call(org.orgId, 'POST', `/tasks/${task.id}/retry`), 409);
    expect(await runsOf(task.id)).toHaveLength(1);
  });
});

describe('DELETE /api/v1/tasks/{id} and runs', () => {
  it('drops the runs queued behind a running one; none of them starts afterwards', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    await dispatch();
    for (let i = 0; i < 2; i += 1) {
      await json<TriggerResponse>(
        await call(org.orgId, 'POST', `/tasks/${task.id}/trigger`, { body: { queue: true } }),
        202,
      );
    }
    const cancelled = await json<Task>(await call(org.orgId, 'DELETE', `/tasks/${task.id}`), 200);
    expect(cancelled).toMatchObject({ status: 'Cancelled', queuedRuns: 0 });
    expect((await runsOf(task.id)).map((run) => run.state)).toEqual(['current', 'dropped', 'dropped']);
    expect((await eventsOf(org.orgId, task.id)).at(-1)).toMatchObject({
      type: 'TaskCancelled',
      metadata: { droppedRuns: 2 },
    });
    expect(await startQueued()).toBe(0);
    expect((await taskRow(task.id)).status).toBe('Cancelled');
  });

  it('cancels a finished task that has a schedule, stopping it; refuses one without', async () => {
    const { org, task } = await completedTask();
    await json<Problem>(await call(org.orgId, 'DELETE', `/tasks/${task.id}`), 409);

    // Cron schedules are set by the reschedule route; its columns are enough here.
    await deps.dataSource.query(
      `UPDATE tasks SET schedule = $2::jsonb, next_run_at = now() + interval '1 minute' WHERE id = $1`,
      [task.id, JSON.stringify({ strategy: 'cron', expression: '* * * * *', timezone: 'UTC' })],
    );
    const cancelled = await json<Task>(await call(org.orgId, 'DELETE', `/tasks/${task.id}`), 200);
    expect(cancelled).toMatchObject({ status: 'Cancelled', nextRunAt: null });
    expect(await taskRow(task.id)).toMatchObject({ status: 'Cancelled', nextRunAt: null });
  });

  it('withdraws a requested pause', async () => {
    const org = await freshOrg();
    const task = await createTask(org.orgId);
    await dispatch();
    await deps.dataSource.query(`UPDATE tasks SET pause_requested_at = now() WHERE id = $1`, [task.id]);
    const cancelled = await json<Task>(await call(org.orgId, 'DELETE', `/tasks/${task.id}`), 200);
    expect(cancelled).toMatchObject({ status: 'Cancelled', pauseRequested: false });
  });
});
