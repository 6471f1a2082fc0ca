import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task } from '@meridian/contracts/api/task';
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
  reschedule,
  at,
  startRunning,
  useRescheduleFixture,
} from './reschedule.fixture.js';

useRescheduleFixture();

describe('PUT /tasks/{id}/reschedule, cron', () => {
  /** Runs the cron sweep until it finds nothing more to do for now (other files' tasks included). */
  async function sweep(): Promise<void> {
    while ((await startDueOccurrences(deps, 100)) > 0);
  }

  it('starts a run at every occurrence while the task is idle, and none once it is cancelled', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org);
    const answer = await reschedule(org, task.id, {
      strategy: 'cron',
      expression: '*/10 * * * * *',
      timezone: 'Europe/London',
    });
    const first = new Date(answer.nextRunAt);
    expect(first.getTime()).toBeGreaterThan(deps.clock.now().getTime());
    expect(first.getTime() % 10_000).toBe(0);
    expect(answer).toMatchObject({
      strategy: 'cron',
      expression: '*/10 * * * * *',
      timezone: 'Europe/London',
      status: 'Completed',
      previousSchedule: { nextRunAt: null, schedule: null },
    });
    const schedule = { strategy: 'cron', expression: '*/10 * * * * *', timezone: 'Europe/London' };
    expect(await getTask(org, task.id)).toMatchObject({
      status: 'Completed',
      schedule,
      nextRunAt: answer.nextRunAt,
    });
    expect((await eventsOf(task.id)).at(-1)).toMatchObject({
      type: 'TaskRescheduled',
      from_status: 'Completed',
      to_status: 'Completed',
      data: { strategy: 'cron', next: { schedule, nextRunAt: answer.nextRunAt, status: 'Completed' } },
    });

    deps.clock.set(new Date(first.getTime() - 1));
    await sweep();
    expect((await getTask(org, task.id)).status).toBe('Completed');

    for (let run = 2; run <= 4; run += 1) {
      const occurrence = new Date(first.getTime() + (run - 2) * 10_000);
      deps.clock.set(new Date(occurrence.getTime() + 300));
      await sweep();
      const pending = await getTask(org, task.id);
      expect(pending).toMatchObject({ status: 'Pending', runNumber: run, triggerType: 'scheduled' });
      expect(pending.schedule).toEqual(schedule);
      const triggered = (await eventsOf(task.id)).at(-1);
      expect(triggered).toMatchObject({
        type: 'TaskTriggered',
        from_status: 'Completed',
        to_status: 'Pending',
        actor: 'system:scheduler',
        data: { occurrence: occurrence.toISOString(), triggerType: 'scheduled', runNumber: run },
      });
      const execution = await dispatch(org, task.id);
      expect(execution).toMatchObject({
        run_number: run,
        trigger_type: 'scheduled',
        trigger_context: { occurrence: occurrence.toISOString() },
      });
      await finish(org, task.id, execution!.id, 'Completed');
      expect(await getTask(org, task.id)).toMatchObject({
        status: 'Completed',
        nextRunAt: new Date(occurrence.getTime() + 10_000).toISOString(),
      });
    }

    // The next run starts; cancelled while it waits, the task starts no run after.
    deps.clock.set(new Date(first.getTime() + 30_000 + 300));
    await sweep();
    expect((await getTask(org, task.id)).status).toBe('Pending');
    await json<Task>(await call('DELETE', `/tasks/${task.id}`, { orgId: org.orgId }), 200);
    const executions = (await executionsOf(task.id)).length;
    for (let step = 1; step <= 3; step += 1) {
      deps.clock.advance(10_000);
      await sweep();
      await dispatch(org, task.id);
    }
    expect((await getTask(org, task.id)).status).toBe('Cancelled');
    expect(await executionsOf(task.id)).toHaveLength(executions);
  });

  it('skips the occurrences that pass while the task runs, then catches up with one run', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    const answer = await reschedule(org, task.id, {
      strategy: 'cron',
      expression: '*/10 * * * * *',
      timezone: 'UTC',
    });
    expect(answer.status).toBe('Pending'); // the schedule applies to the runs after the current one
    const executionId = await startRunning(org, task.id);
    deps.clock.set(new Date(new Date(answer.nextRunAt).getTime() + 35_000));
    await sweep();
    expect((await getTask(org, task.id)).status).toBe('Running');
    await finish(org, task.id, executionId, 'Completed');
    await sweep();
    const caughtUp = await getTask(org, task.id);
    expect(caughtUp).toMatchObject({ status: 'Pending', runNumber: 2 });
    await sweep();
    expect((await getTask(org, task.id)).runNumber).toBe(2);
    const [row]: { next_run_at: Date }[] = await deps.dataSource.query(
      `SELECT next_run_at FROM tasks WHERE id = $1`,
      [task.id],
    );
    expect(row!.next_run_at.getTime()).toBeGreaterThan(deps.clock.now().getTime());
  });

  it('a once-reschedule replaces the cron schedule', async () => {
    const org = await freshOrg();
    const task = await finishedTask(org);
    const cron = await reschedule(org, task.id, {
      strategy: 'cron',
      expression: '0 * * * *',
      timezone: 'UTC',
    });
    const once = await reschedule(org, task.id, { strategy: 'delayed', delay: '90s' });
    expect(once.previousSchedule).toEqual({
      nextRunAt: cron.nextRunAt,
      schedule: { strategy: 'cron', expression: '0 * * * *', timezone: 'UTC' },
    });
    expect(await getTask(org, task.id)).toMatchObject({
      status: 'Pending',
      schedule: null,
      nextRunAt: at(90_000),
    });
  });

  it('is allowed while Running (status unchanged) and 409 once Cancelled', async () => {
    const org = await freshOrg();
    const task = await createTask(org);
    await startRunning(org, task.id);
    const body = { strategy: 'cron', expression: '0 9 * * MON-FRI', timezone: 'America/New_York' };
    expect(await reschedule(org, task.id, body)).toMatchObject({ status: 'Running' });
    await json<Task>(await call('DELETE', `/tasks/${task.id}`, { orgId: org.orgId }), 200);
    await json<Problem>(await call('PUT', `/tasks/${task.id}/reschedule`, { orgId: org.orgId, body }), 409);
  });
});
