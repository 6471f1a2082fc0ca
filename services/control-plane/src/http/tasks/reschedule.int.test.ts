import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import {
  call,
  createTask,
  deps,
  dispatch,
  eventsOf,
  executionsOf,
  finishedTask,
  freshOrg,
  getTask,
  json,
  reschedule,
  at,
  runOnce,
  startRunning,
  useRescheduleFixture,
  type Org,
} from './reschedule.fixture.js';

useRescheduleFixture();

describe('PUT /tasks/{id}/reschedule, once', () => {
  it('immediate: a Completed task starts a new run (trigger scheduled) carrying the announced execution id', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org);
    const answer = await reschedule(org, task.id, { strategy: 'immediate' });
    expect(answer).toEqual({
      taskId: task.id,
      strategy: 'immediate',
      nextRunAt: at(0),
      status: 'Pending',
      executionId: expect.any(String) as string,
      previousSchedule: { nextRunAt: null, schedule: null },
    });
    const execution = await dispatch(org, task.id);
    expect(execution).toMatchObject({ id: answer.executionId, run_number: 2, trigger_type: 'scheduled' });
    expect(await getTask(org, task.id)).toMatchObject({ runNumber: 2, triggerType: 'scheduled' });
    const rescheduled = (await eventsOf(task.id)).find((event) => event.type === 'TaskRescheduled');
    expect(rescheduled).toMatchObject({
      from_status: 'Completed',
      to_status: 'Pending',
      actor: 'user:user-1',
      execution_id: answer.executionId,
      data: {
        strategy: 'immediate',
        delayMs: 0,
        triggerType: 'scheduled',
        runNumber: 2,
        previous: { schedule: null, nextRunAt: null, status: 'Completed' },
        next: { schedule: null, nextRunAt: answer.nextRunAt, status: 'Pending' },
      },
    });
  });

  it('delayed 2s: a Failed task is dispatched again only once the 2 s have passed', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org, 'Failed');
    const answer = await reschedule(org, task.id, { strategy: 'delayed', delay: '2s' });
    expect(answer).toMatchObject({
      strategy: 'delayed',
      delayMs: 2000,
      nextRunAt: at(2000),
      status: 'Pending',
    });
    expect(await getTask(org, task.id)).toMatchObject({ status: 'Pending', nextRunAt: at(2000) });

    deps.clock.advance(1999);
    expect(await dispatch(org, task.id)).toBeUndefined();
    expect(await executionsOf(task.id)).toHaveLength(1);

    deps.clock.advance(1);
    expect(await dispatch(org, task.id)).toMatchObject({ id: answer.executionId, run_number: 2 });
    expect(await executionsOf(task.id)).toHaveLength(2);
  });

  it('exponential_backoff: base 1m, count 2 waits 4m (the test draws no jitter)', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org, 'Failed');
    const body = { strategy: 'exponential_backoff', baseDelay: '1m', maxDelay: '1h', currentRetryCount: 2 };
    const answer = await reschedule(org, task.id, body);
    expect(answer).toMatchObject({
      strategy: 'exponential_backoff',
      delayMs: 240_000,
      nextRunAt: at(240_000),
    });
    const capped = await reschedule(org, (await finishedTask(org, 'Failed')).id, {
      ...body,
      maxDelay: 'PT3M',
    });
    expect(capped.delayMs).toBe(180_000);
  });

  it('re-times a Pending run: same run, same announced execution id, new time', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const answer = await reschedule(org, task.id, { strategy: 'delayed', delay: 'PT1H' });
    expect(answer).toMatchObject({ status: 'Pending', nextRunAt: at(3_600_000) });
    expect(answer.previousSchedule).toEqual({ nextRunAt: task.nextRunAt, schedule: null });
    expect(await dispatch(org, task.id)).toBeUndefined();
    deps.clock.advance(3_600_000);
    const execution = await dispatch(org, task.id);
    expect(execution).toMatchObject({ id: answer.executionId, run_number: 1, trigger_type: 'api' });
    const runs: { n: number }[] = await deps.dataSource.query(
      `SELECT count(*)::int AS n FROM task_runs WHERE task_id = $1`,
      [task.id],
    );
    expect(runs).toEqual([{ n: 1 }]);
  });

  it('re-times a Retrying task to run now', async () => {
    const org = await freshOrg();
    const task = await createTask(org, { maxRetries: 3 });
    await runOnce(org, task.id, 'FailedRetryable');
    expect((await getTask(org, task.id)).status).toBe('Retrying');
    const answer = await reschedule(org, task.id, { strategy: 'immediate' });
    expect(answer).toMatchObject({ status: 'Pending', nextRunAt: at(0) });
    expect(answer.executionId).toBeUndefined(); // a retry's attempt gets its id when dispatched
    const events = await eventsOf(task.id);
    expect(events.at(-1)).toMatchObject({
      type: 'TaskRescheduled',
      from_status: 'Retrying',
      to_status: 'Pending',
    });
    expect(await dispatch(org, task.id)).toMatchObject({ run_number: 1 });
  });

  it.each([
    ['Scheduled', async (org: Org, taskId: string) => void (await dispatch(org, taskId))],
    ['Running', async (org: Org, taskId: string) => void (await startRunning(org, taskId))],
    ['Paused', async (org: Org, taskId: string) => void (await call('POST', `/tasks/${taskId}/pause`, org))],
    ['Cancelled', async (org: Org, taskId: string) => void (await call('DELETE', `/tasks/${taskId}`, org))],
  ])('is 409 on a %s task, records TransitionRejected and changes nothing', async (status, bring) => {
    const org = await freshOrg();
    const task = await createTask(org);
    await bring(org, task.id);
    const before = await getTask(org, task.id);
    expect(before.status).toBe(status);
    for (const body of [{ strategy: 'immediate' }, { strategy: 'delayed', delay: '5m' }]) {
      const problem = await json<Problem>(
        await call('PUT', `/tasks/${task.id}/reschedule`, { orgId: org.orgId, body }),
        409,
      );
      expect(problem.detail).toContain(status);
    }
    expect(await getTask(org, task.id)).toEqual(before);
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TransitionRejected',
      data: { event: 'Reschedule' },
    });
  });
});

describe('PUT /tasks/{id}/reschedule, refusals', () => {
  it.each([
    [{ strategy: 'delayed', delay: '5x' }, 'body.delay', 'must be a whole number'],
    [{ strategy: 'delayed', delay: 'P1M' }, 'body.delay', 'no fixed length'],
    [{ strategy: 'delayed', delay: '0s' }, 'body.delay', 'more than 0'],
    [{ strategy: 'delayed', delay: '400d' }, 'body.delay', 'at most 366 days'],
    [{ strategy: 'delayed' }, 'body.delay', ''],
    [
      { strategy: 'exponential_backoff', baseDelay: 'soon', maxDelay: '1h', currentRetryCount: 1 },
      'body.baseDelay',
      'must be',
    ],
    [
      { strategy: 'exponential_backoff', baseDelay: '1h', maxDelay: '1m', currentRetryCount: 1 },
      'body.maxDelay',
      'at least baseDelay',
    ],
    [
      { strategy: 'exponential_backoff', baseDelay: '1m', maxDelay: '1h', currentRetryCount: 65 },
      'body.currentRetryCount',
      '',
    ],
    [{ strategy: 'cron', expression: '* * *', timezone: 'UTC' }, 'body.expression', '5 fields'],
    [{ strategy: 'cron', expression: '99 * * * *', timezone: 'UTC' }, 'body.expression', 'not a valid'],
    [{ strategy: 'cron', expression: '* * * * *', timezone: 'Mars/Olympus' }, 'body.timezone', 'IANA'],
    [{ strategy: 'bogus' }, 'body.strategy', 'must be one of immediate, delayed, exponential_backoff, cron'],
    [{ strategy: 'conditional' }, 'body.strategy', 'belongs to workflows'],
    [{}, 'body.strategy', 'must be one of'],
    [{ strategy: 'immediate', delay: '5m' }, 'body.delay', 'is not a known field'],
    [{ strategy: 'delayed', delay: '5m', colour: 'blue' }, 'body.colour', 'is not a known field'],
  ])('refuses %j with a 400 naming %s, and changes nothing', async (body, field, message) => {
    const org = await freshOrg();
    const task = await finishedTask(org);
    const eventCount = (await eventsOf(task.id)).length;
    const problem = await json<Problem>(
      await call('PUT', `/tasks/${task.id}/reschedule`, { orgId: org.orgId, body }),
      400,
    );
    expect(problem.type).toBe('/problems/validation');
    const error = problem.errors?.find((entry) => entry.field === field);
    expect(error, JSON.stringify(problem.errors)).toBeDefined();
    expect(error!.message).toContain(message);
    expect(await getTask(org, task.id)).toEqual(task);
    expect(await eventsOf(task.id)).toHaveLength(eventCount);
  });

  it('is 404 for another organisation’s task, and 403 without task:reschedule', async () => {
    const org = await freshOrg();
    const other = await freshOrg();
    const task = await finishedTask(org);
    const body = { strategy: 'immediate' };
    await json<Problem>(await call('PUT', `/tasks/${task.id}/reschedule`, { orgId: other.orgId, body }), 404);
    const forbidden = await json<Problem>(
      await call('PUT', `/tasks/${task.id}/reschedule`, {
        orgId: org.orgId,
        body,
        permissions: ['task:read', 'task:write', 'task:trigger'],
      }),
      403,
    );
    expect(forbidden.detail).toContain('task:reschedule');
    expect(await getTask(org, task.id)).toEqual(task);
  });
});
