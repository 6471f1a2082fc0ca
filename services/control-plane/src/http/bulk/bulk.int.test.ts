/** Bulk trigger and reschedule over HTTP on a real database: per-item results, both transaction modes, tenancy. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BulkResult } from '@meridian/contracts/api/task-run';
import {
  call,
  createTask,
  deps,
  freshOrg,
  json,
  runsOf,
  taskRow,
  useRunsFixture,
} from '../tasks/runs.fixture.js';

useRunsFixture();

async function pendingTasks(orgId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  // Sequential creates: the point is the bulk call, not the creates.
  for (let index = 0; index < count; index += 1) ids.push((await createTask(orgId)).id);
  return ids;
}

describe('POST /tasks/bulk/trigger', () => {
  it('applies 99 of 100 items and answers the bad one with its own 404 (allOrNothing false)', async () => {
    const { orgId } = await freshOrg();
    const other = await freshOrg();
    const foreign = (await createTask(other.orgId)).id;
    const ids = await pendingTasks(orgId, 99);
    const items = ids.map((taskId) => ({ taskId, queue: true, context: { batch: 'b1' } }));
    items.splice(37, 0, { taskId: foreign, queue: true, context: { batch: 'b1' } });

    const result = await json<BulkResult>(
      await call(orgId, 'POST', '/tasks/bulk/trigger', { body: { tasks: items, allOrNothing: false } }),
      200,
    );
    expect(result).toMatchObject({
      allOrNothing: false,
      applied: true,
      succeeded: 99,
      failed: 1,
      failedItems: [37],
    });
    expect(result.results).toHaveLength(100);
    expect(result.results.map((item) => item.index)).toEqual(items.map((_, index) => index));
    expect(result.results[37]).toMatchObject({ taskId: foreign, status: 404, problem: { status: 404 } });
    expect(JSON.stringify(result.results[37])).not.toContain(other.orgId);
    for (const item of result.results.filter((entry) => entry.index !== 37)) {
      expect(item.status).toBe(202);
      expect(item.executionId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const runs = await runsOf(ids[0]!);
    expect(runs.map((run) => [run.triggerType, run.state, run.triggerContext])).toEqual([
      ['api', 'current', {}],
      ['bulk', 'queued', { batch: 'b1' }],
    ]);
    expect(runs[1]!.firstExecutionId).toBe(result.results[0]!.executionId);
    expect(await runsOf(foreign)).toHaveLength(1);
  });

  it('applies none and names the failing item when allOrNothing is true', async () => {
    const { orgId } = await freshOrg();
    const ids = await pendingTasks(orgId, 99);
    const items = ids.map((taskId) => ({ taskId, queue: true }));
    const missing = randomUUID();
    items.splice(5, 0, { taskId: missing, queue: true });

    const result = await json<BulkResult>(
      await call(orgId, 'POST', '/tasks/bulk/trigger', { body: { tasks: items, allOrNothing: true } }),
      200,
    );
    expect(result).toMatchObject({
      allOrNothing: true,
      applied: false,
      succeeded: 0,
      failed: 100,
      failedItems: [5],
    });
    expect(result.results[5]).toMatchObject({ taskId: missing, status: 404 });
    expect(result.results[0]).toMatchObject({
      status: 424,
      problem: { detail: expect.stringMatching(/item\(s\) 5/) as unknown },
    });
    for (const taskId of ids.slice(0, 10)) {
      expect(await runsOf(taskId)).toHaveLength(1);
      expect((await taskRow(taskId)).queuedRunCount).toBe(0);
    }
  });

  it('answers each item what the single call would: a run in progress without queue is a 409 item', async () => {
    const { orgId } = await freshOrg();
    const [pending] = await pendingTasks(orgId, 1);
    const result = await json<BulkResult>(
      await call(orgId, 'POST', '/tasks/bulk/trigger', { body: { tasks: [{ taskId: pending }] } }),
      200,
    );
    expect(result.results[0]).toMatchObject({
      status: 409,
      problem: { detail: expect.stringMatching(/queue/) as unknown },
    });
  });

  it.each([
    ['no items', { tasks: [] }, 'body.tasks'],
    ['1,001 items', { tasks: Array.from({ length: 1001 }, () => ({ taskId: randomUUID() })) }, 'body.tasks'],
    ['an unknown field', { tasks: [{ taskId: randomUUID(), conditions: {} }] }, 'body.tasks.0'],
    ['a bad task id', { tasks: [{ taskId: 'task-1' }] }, 'body.tasks.0.taskId'],
  ])('refuses %s with a 400 naming the field', async (_name, body, field) => {
    const { orgId } = await freshOrg();
    const problem = await json<{ errors: { field: string }[] }>(
      await call(orgId, 'POST', '/tasks/bulk/trigger', { body }),
      400,
    );
    expect(problem.errors.map((error) => error.field).join(' ')).toContain(field);
  });

  it('needs task:trigger', async () => {
    const { orgId } = await freshOrg();
    const response = await call(orgId, 'POST', '/tasks/bulk/trigger', {
      body: { tasks: [{ taskId: randomUUID() }] },
      permissions: ['task:read', 'task:write'],
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('task:trigger');
  });
});

describe('PUT /tasks/bulk/reschedule', () => {
  it('re-times each item, and names a bad item’s field by its place', async () => {
    const { orgId } = await freshOrg();
    const [first, second, third] = await pendingTasks(orgId, 3);
    const result = await json<BulkResult>(
      await call(orgId, 'PUT', '/tasks/bulk/reschedule', {
        body: {
          tasks: [
            { taskId: first, strategy: 'delayed', delay: '5m' },
            { taskId: second, strategy: 'delayed', delay: 'soon' },
            { taskId: third, strategy: 'cron', expression: '0 3 * * *', timezone: 'Europe/London' },
          ],
        },
      }),
      200,
    );
    expect(result).toMatchObject({ applied: true, succeeded: 2, failedItems: [1] });
    expect(result.results[0]).toMatchObject({ status: 200, nextRunAt: expect.any(String) as unknown });
    expect(result.results[1]).toMatchObject({
      status: 400,
      problem: { errors: [{ field: 'body.tasks.1.delay' }] },
    });
    expect(result.results[2]).toMatchObject({ status: 200 });
    expect((await taskRow(first!)).runAfter.getTime() - deps.clock.now().getTime()).toBeGreaterThan(
      4 * 60_000,
    );
    expect((await taskRow(third!)).schedule).toMatchObject({
      expression: '0 3 * * *',
      timezone: 'Europe/London',
    });
  });

  it('needs task:reschedule', async () => {
    const { orgId } = await freshOrg();
    const response = await call(orgId, 'PUT', '/tasks/bulk/reschedule', {
      body: { tasks: [{ taskId: randomUUID(), strategy: 'immediate' }] },
      permissions: ['task:read', 'task:trigger'],
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('task:reschedule');
  });
});
