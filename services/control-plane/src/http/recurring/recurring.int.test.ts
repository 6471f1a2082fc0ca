// First: @hono/zod-openapi adds `.openapi()` to zod schemas built after it (the contracts' too).
import '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type {
  RecurringOccurrence,
  RecurringTask,
  RecurringTaskList,
} from '@meridian/contracts/api/recurring';
import type { Task } from '@meridian/contracts/api/task';
import {
  call,
  clock,
  createRecurring,
  ECHO,
  freshOrg,
  getRecurring,
  json,
  useRecurringFixture,
} from './recurring.fixture.js';

useRecurringFixture();

const fieldsOf = (problem: Problem) => problem.errors?.map((error) => error.field);

describe('POST /api/v1/tasks/recurring', () => {
  it('stores the definition with its defaults and its next run in its time zone', async () => {
    const orgId = freshOrg();
    const response = await call('POST', '/tasks/recurring', {
      orgId,
      body: {
        name: 'backup',
        ...ECHO,
        payload: { message: 'hi' },
        schedule: '0 3 * * *',
        timezone: 'Europe/London',
      },
    });
    const created = await json<RecurringTask>(response, 201);
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/recurring/${created.id}`);
    expect(created).toMatchObject({
      orgId,
      name: 'backup',
      type: 'Echo',
      payload: { message: 'hi' },
      priority: 'Normal',
      schedule: '0 3 * * *',
      timezone: 'Europe/London',
      enabled: true,
      overlap: 'skip',
      misfire: 'fire-once',
      lastRunAt: null,
      lastTaskId: null,
      recentOccurrences: [],
    });
    // 03:00 BST is 02:00Z in June; the clock is past it or before it on the same day.
    const next = new Date(created.nextRunAt!);
    expect(next.getUTCHours()).toBe(2);
    expect(next.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(next.getTime() - clock.now().getTime()).toBeLessThanOrEqual(86_400_000);
    expect(await getRecurring(orgId, created.id)).toEqual(created);
  });

  it.each([
    ['a cron expression with 4 fields', { schedule: '0 * * *' }, ['body.schedule']],
    ['an invalid cron expression', { schedule: '61 * * * *' }, ['body.schedule']],
    ['an unknown time zone', { timezone: 'Mars/Olympus' }, ['body.timezone']],
    ['an unknown overlap policy', { overlap: 'sometimes' }, ['body.overlap']],
    ['an unknown misfire policy', { misfire: 'fire-twice' }, ['body.misfire']],
    ['no name', { name: undefined }, ['body.name']],
    ['an unknown field', { every: 'hour' }, ['body.every']],
    [
      'a payload its type refuses',
      { type: 'Command', payload: { command: 'ls -l' } },
      ['body.payload.command'],
    ],
  ])('answers 400 naming the field for %s, and stores nothing', async (_name, change, fields) => {
    const orgId = freshOrg();
    const body = { name: 'job', ...ECHO, schedule: '0 * * * *', ...change };
    const problem = await json<Problem>(await call('POST', '/tasks/recurring', { orgId, body }), 400);
    expect(fieldsOf(problem)).toEqual(fields);
    const list = await json<RecurringTaskList>(await call('GET', '/tasks/recurring', { orgId }), 200);
    expect(list.total).toBe(0);
  });

  it('accepts the seed’s example schedules', async () => {
    const orgId = freshOrg();
    for (const schedule of ['0 * * * *', '0 3 * * *', '0 0 * * 0', '0 0 1 * *']) {
      expect((await createRecurring(orgId, { schedule })).schedule).toBe(schedule);
    }
  });

  it('a disabled one has no next run', async () => {
    const created = await createRecurring(freshOrg(), { enabled: false });
    expect(created).toMatchObject({ enabled: false, nextRunAt: null });
  });
});

describe('GET /api/v1/tasks/recurring', () => {
  it('pages the organisation’s recurring tasks, newest first, filtered by enabled', async () => {
    const orgId = freshOrg();
    const first = await createRecurring(orgId, { name: 'a' });
    clock.advance(1);
    const second = await createRecurring(orgId, { name: 'b', enabled: false });
    clock.advance(1);
    const third = await createRecurring(orgId, { name: 'c' });
    await createRecurring(freshOrg(), { name: 'elsewhere' });
    const page1 = await json<RecurringTaskList>(
      await call('GET', '/tasks/recurring?limit=2', { orgId }),
      200,
    );
    expect(page1).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(page1.items.map((item) => item.id)).toEqual([third.id, second.id]);
    const page2 = await json<RecurringTaskList>(
      await call('GET', '/tasks/recurring?limit=2&page=2', { orgId }),
      200,
    );
    expect(page2.items.map((item) => item.id)).toEqual([first.id]);
    const enabled = await json<RecurringTaskList>(
      await call('GET', '/tasks/recurring?enabled=true', { orgId }),
      200,
    );
    expect(enabled.items.map((item) => item.id)).toEqual([third.id, first.id]);
    const refused = await json<Problem>(await call('GET', '/tasks/recurring?limit=101', { orgId }), 400);
    expect(fieldsOf(refused)).toEqual(['query.limit']);
  });
});

describe('PATCH /api/v1/tasks/recurring/{id}', () => {
  it('changes the schedule and computes the next run again; disabling clears it, enabling restores it', async () => {
    const orgId = freshOrg();
    const created = await createRecurring(orgId, { schedule: '0 3 * * *', timezone: 'UTC' });
    const path = `/tasks/recurring/${created.id}`;
    const changed = await json<RecurringTask>(
      await call('PATCH', path, {
        orgId,
        body: { schedule: '*/5 * * * *', overlap: 'allow', payload: { n: 1 } },
      }),
      200,
    );
    const next = new Date(changed.nextRunAt!);
    expect(next.getTime() % 300_000).toBe(0);
    expect(next.getTime() - clock.now().getTime()).toBeLessThanOrEqual(300_000);
    expect(changed).toMatchObject({
      schedule: '*/5 * * * *',
      overlap: 'allow',
      payload: { n: 1 },
      name: 'nightly',
    });
    const disabled = await json<RecurringTask>(
      await call('PATCH', path, { orgId, body: { enabled: false } }),
      200,
    );
    expect(disabled.nextRunAt).toBeNull();
    clock.advance(3_600_000);
    const enabled = await json<RecurringTask>(
      await call('PATCH', path, { orgId, body: { enabled: true } }),
      200,
    );
    expect(new Date(enabled.nextRunAt!).getTime()).toBeGreaterThan(clock.now().getTime());
    expect(await getRecurring(orgId, created.id)).toEqual(enabled);
  });

  it.each([
    ['an invalid schedule', { schedule: 'every hour' }, ['body.schedule']],
    ['an unknown time zone', { timezone: 'Nowhere' }, ['body.timezone']],
    ['an empty body', {}, ['body']],
    ['a null name', { name: null }, ['body.name']],
  ])('answers 400 naming the field for %s, and changes nothing', async (_name, body, fields) => {
    const orgId = freshOrg();
    const created = await createRecurring(orgId, {});
    const problem = await json<Problem>(
      await call('PATCH', `/tasks/recurring/${created.id}`, { orgId, body }),
      400,
    );
    expect(fieldsOf(problem)).toEqual(fields);
    expect(await getRecurring(orgId, created.id)).toEqual(created);
  });
});

describe('POST /api/v1/tasks/recurring/{id}/trigger', () => {
  it('creates one occurrence’s task now, shown as the last run and in the recent occurrences', async () => {
    const orgId = freshOrg();
    const created = await createRecurring(orgId, { enabled: false, name: 'restart' });
    const response = await call('POST', `/tasks/recurring/${created.id}/trigger`, { orgId });
    const occurrence = await json<RecurringOccurrence>(response, 201);
    expect(occurrence).toMatchObject({
      manual: true,
      outcome: 'created',
      scheduledFor: clock.now().toISOString(),
    });
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/${occurrence.taskId}`);
    const task = await json<Task>(await call('GET', `/tasks/${occurrence.taskId}`, { orgId }), 200);
    expect(task).toMatchObject({
      name: 'restart',
      type: 'Echo',
      status: 'Pending',
      triggerType: 'recurring',
    });
    const shown = await getRecurring(orgId, created.id);
    expect(shown).toMatchObject({ lastTaskId: task.id, lastRunAt: occurrence.scheduledFor, nextRunAt: null });
    expect(shown.recentOccurrences).toEqual([{ ...occurrence, taskStatus: 'Pending' }]);
    // The same instant again is the same occurrence: refused, not a second task.
    await json<Problem>(await call('POST', `/tasks/recurring/${created.id}/trigger`, { orgId }), 409);
  });

  it('needs task:trigger', async () => {
    const orgId = freshOrg();
    const created = await createRecurring(orgId, {});
    const response = await call('POST', `/tasks/recurring/${created.id}/trigger`, {
      orgId,
      permissions: ['task:read', 'task:write'],
    });
    await json<Problem>(response, 403);
  });
});

describe('DELETE /api/v1/tasks/recurring/{id}', () => {
  it('deletes it; the tasks it created stay', async () => {
    const orgId = freshOrg();
    const created = await createRecurring(orgId, {});
    const fired = await json<RecurringOccurrence>(
      await call('POST', `/tasks/recurring/${created.id}/trigger`, { orgId }),
      201,
    );
    await json<undefined>(await call('DELETE', `/tasks/recurring/${created.id}`, { orgId }), 204);
    await json<Problem>(await call('GET', `/tasks/recurring/${created.id}`, { orgId }), 404);
    await json<Problem>(await call('DELETE', `/tasks/recurring/${created.id}`, { orgId }), 404);
    await json<Task>(await call('GET', `/tasks/${fired.taskId}`, { orgId }), 200);
  });
});

describe('tenant isolation', () => {
  it('another organisation’s recurring task is 404 on every route and absent from its list', async () => {
    const owner = freshOrg();
    const other = freshOrg();
    const created = await createRecurring(owner, {});
    const path = `/tasks/recurring/${created.id}`;
    await json<Problem>(await call('GET', path, { orgId: other }), 404);
    await json<Problem>(await call('PATCH', path, { orgId: other, body: { enabled: false } }), 404);
    await json<Problem>(await call('POST', `${path}/trigger`, { orgId: other }), 404);
    await json<Problem>(await call('DELETE', path, { orgId: other }), 404);
    const list = await json<RecurringTaskList>(await call('GET', '/tasks/recurring', { orgId: other }), 200);
    expect(list.total).toBe(0);
    expect(await getRecurring(owner, created.id)).toEqual(created);
  });
});
