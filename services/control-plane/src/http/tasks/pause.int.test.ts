import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { RescheduleResponse } from '@meridian/contracts/api/reschedule';
import type { Task } from '@meridian/contracts/api/task';
import { applyRequestedPauses } from '../../app/apply-requested-pauses.js';
import { startDueOccurrences } from '../../app/start-due-occurrences.js';
import {
  call,
  createTask,
  deps,
  dispatch,
  eventsOf,
  executionsOf,
  finish,
  finishedTask,
  freshOrg,
  getTask,
  json,
  startRunning,
  useRescheduleFixture,
  type Org,
} from './reschedule.fixture.js';

useRescheduleFixture();

const pause = async (org: Org, taskId: string, body?: unknown, status = 200) =>
  json<Task>(await call('POST', `/tasks/${taskId}/pause`, { orgId: org.orgId, body }), status);
const resume = async (org: Org, taskId: string, body?: unknown, status = 200) =>
  json<Task>(await call('POST', `/tasks/${taskId}/resume`, { orgId: org.orgId, body }), status);

/** Runs a sweep until it finds nothing more to do for now (other tests' tasks included). */
async function drain(pass: () => Promise<number>): Promise<void> {
  while ((await pass()) > 0);
}
const sweepOccurrences = () => drain(() => startDueOccurrences(deps, 100));
const sweepPauses = () => drain(() => applyRequestedPauses(deps, 100));

async function cron(org: Org, taskId: string, expression = '*/10 * * * * *') {
  return json<RescheduleResponse>(
    await call('PUT', `/tasks/${taskId}/reschedule`, {
      orgId: org.orgId,
      body: { strategy: 'cron', expression, timezone: 'UTC' },
    }),
    200,
  );
}

describe('POST /tasks/{id}/pause and /resume', () => {
  it('pauses a Pending task: not dispatched, no run started, until resumed', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const paused = await pause(org, task.id, { reason: 'maintenance window' });
    expect(paused).toMatchObject({
      status: 'Paused',
      pausedAt: deps.clock.now().toISOString(),
      pauseRequested: false,
      nextRunAt: null,
    });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskPaused',
      from_status: 'Pending',
      to_status: 'Paused',
      data: { reason: 'maintenance window' },
    });
    expect(await dispatch(org, task.id)).toBeUndefined();
    await json<Problem>(
      await call('PUT', `/tasks/${task.id}/reschedule`, {
        orgId: org.orgId,
        body: { strategy: 'immediate' },
      }),
      409,
    );
    await pause(org, task.id, undefined, 409);

    const resumed = await resume(org, task.id);
    expect(resumed).toMatchObject({ status: 'Pending', pausedAt: null, pauseRequested: false });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskResumed',
      from_status: 'Paused',
      to_status: 'Pending',
    });
    expect(await dispatch(org, task.id)).toMatchObject({ run_number: 1 });
  });

  it('pauses a cron task: no occurrence starts a run while paused; resumed, it goes on from the next one after now', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org);
    const scheduled = await cron(org, task.id);
    await pause(org, task.id);
    deps.clock.set(new Date(new Date(scheduled.nextRunAt).getTime() + 25_000));
    await sweepOccurrences();
    expect(await getTask(org, task.id)).toMatchObject({ status: 'Paused', runNumber: 1, nextRunAt: null });

    const resumed = await resume(org, task.id);
    const next = new Date(resumed.nextRunAt!);
    expect(resumed.status).toBe('Completed');
    expect(next.getTime()).toBeGreaterThan(deps.clock.now().getTime());
    expect(next.getTime() - deps.clock.now().getTime()).toBeLessThanOrEqual(10_000);
    await sweepOccurrences();
    expect((await getTask(org, task.id)).runNumber).toBe(1); // the occurrences of the pause were skipped
    deps.clock.set(next);
    await sweepOccurrences();
    expect(await getTask(org, task.id)).toMatchObject({ status: 'Pending', runNumber: 2 });
  });

  it('on a Running task: the execution goes on, the pause takes effect when it ends', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const executionId = await startRunning(org, task.id);
    await cron(org, task.id);
    const requested = await pause(org, task.id);
    expect(requested).toMatchObject({
      status: 'Running',
      pauseRequested: true,
      pausedAt: null,
      nextRunAt: null,
    });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskPauseRequested',
      from_status: 'Running',
      to_status: 'Running',
      execution_id: executionId,
    });
    const again = await json<Problem>(await call('POST', `/tasks/${task.id}/pause`, org), 409);
    expect(again.detail).toContain('already requested');
    await sweepPauses();
    expect((await getTask(org, task.id)).status).toBe('Running');

    await finish(org, task.id, executionId, 'Completed');
    deps.clock.advance(60_000); // occurrences are due: the requested pause keeps them from starting a run
    await sweepOccurrences();
    expect(await getTask(org, task.id)).toMatchObject({
      status: 'Completed',
      runNumber: 1,
      pauseRequested: true,
    });
    await json<Problem>(
      await call('PUT', `/tasks/${task.id}/reschedule`, {
        orgId: org.orgId,
        body: { strategy: 'immediate' },
      }),
      409,
    );

    await sweepPauses();
    expect(await getTask(org, task.id)).toMatchObject({ status: 'Paused', pauseRequested: false });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskPaused',
      from_status: 'Completed',
      to_status: 'Paused',
      actor: 'system:pause-sweep',
    });
    await sweepOccurrences();
    expect(await executionsOf(task.id)).toHaveLength(1);
    expect((await resume(org, task.id)).status).toBe('Completed');
  });

  it('resume withdraws a requested pause: the task finishes and stays unpaused', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const executionId = await startRunning(org, task.id);
    await pause(org, task.id);
    const withdrawn = await resume(org, task.id, { reason: 'changed my mind' });
    expect(withdrawn).toMatchObject({ status: 'Running', pauseRequested: false });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskResumed',
      from_status: 'Running',
      to_status: 'Running',
      data: { pauseWithdrawn: true, reason: 'changed my mind' },
    });
    await finish(org, task.id, executionId, 'Completed');
    await sweepPauses();
    expect((await getTask(org, task.id)).status).toBe('Completed');
  });

  it('resume on a task whose execution ended before the pause sweep came by withdraws the pause', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const executionId = await startRunning(org, task.id);
    await pause(org, task.id);
    await finish(org, task.id, executionId, 'Failed');
    expect(await resume(org, task.id)).toMatchObject({ status: 'Failed', pauseRequested: false });
    await sweepPauses();
    expect((await getTask(org, task.id)).status).toBe('Failed');
  });

  it.each([
    ['resume of a task that is not paused', 'resume', 'Completed'],
    ['resume of a Running task without a pause requested', 'resume', 'Running'],
    ['pause of a Cancelled task', 'pause', 'Cancelled'],
    ['resume of a Cancelled task', 'resume', 'Cancelled'],
  ])('is 409 for a %s, recorded as TransitionRejected', async (_name, action, status) => {
    const org = await freshOrg();
    const task = status === 'Completed' ? await finishedTask(org) : await createTask(org);
    if (status === 'Running') await startRunning(org, task.id);
    if (status === 'Cancelled') await call('DELETE', `/tasks/${task.id}`, org);
    const before = await getTask(org, task.id);
    expect(before.status).toBe(status);
    await json<Problem>(await call('POST', `/tasks/${task.id}/${action}`, org), 409);
    expect(await getTask(org, task.id)).toEqual(before);
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({ type: 'TransitionRejected' });
  });

  it('a Paused task may be cancelled', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    await pause(org, task.id);
    expect(await json<Task>(await call('DELETE', `/tasks/${task.id}`, org), 200)).toMatchObject({
      status: 'Cancelled',
    });
  });

  it.each([
    [{ colour: 'blue' }, 'body.colour'],
    [{ reason: '' }, 'body.reason'],
    [{ reason: 'a\u0000b' }, 'body.reason'],
  ])('refuses the body %j with a 400 naming %s', async (body, field) => {
    const org = await freshOrg();
    const task = await createTask(org);
    for (const action of ['pause', 'resume']) {
      const problem = await json<Problem>(
        await call('POST', `/tasks/${task.id}/${action}`, { orgId: org.orgId, body }),
        400,
      );
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    expect((await getTask(org, task.id)).status).toBe('Pending');
  });

  it('is 404 for another organisation’s task, 403 without task:reschedule', async () => {
    const org = await freshOrg();
    const other = await freshOrg();
    const task = await createTask(org);
    for (const action of ['pause', 'resume']) {
      await json<Problem>(await call('POST', `/tasks/${task.id}/${action}`, other), 404);
      const forbidden = await json<Problem>(
        await call('POST', `/tasks/${task.id}/${action}`, {
          orgId: org.orgId,
          permissions: ['task:read', 'task:write', 'task:trigger'],
        }),
        403,
      );
      expect(forbidden.detail).toContain('task:reschedule');
    }
    expect((await getTask(org, task.id)).status).toBe('Pending');
  });
});
