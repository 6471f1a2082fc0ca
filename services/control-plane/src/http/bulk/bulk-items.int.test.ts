/** Bulk calls item by item: repeated and upper-case task ids, refused items among applied ones, estimates per task type. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BulkResult } from '@meridian/contracts/api/task-run';
import {
  call,
  completedTask,
  createTask,
  deps,
  dispatch,
  finish,
  freshOrg,
  json,
  runsOf,
  taskRow,
  useRunsFixture,
} from '../tasks/runs.fixture.js';

useRunsFixture();

const bulkTrigger = async (orgId: string, tasks: object[], allOrNothing = false) =>
  json<BulkResult>(await call(orgId, 'POST', '/tasks/bulk/trigger', { body: { tasks, allOrNothing } }), 200);

describe('bulk items', () => {
  it('lets a later item on the same task see what the earlier one did', async () => {
    const { org, task } = await completedTask();
    const result = await bulkTrigger(org.orgId, [
      { taskId: task.id },
      { taskId: task.id },
      { taskId: task.id, queue: true },
    ]);
    expect(result.results.map((item) => item.status)).toEqual([202, 409, 202]);
    expect(result.results[1]!.problem?.detail).toMatch(/queue/);
    expect((await runsOf(task.id)).map((run) => [run.triggerType, run.state])).toEqual([
      ['api', 'ended'],
      ['bulk', 'current'],
      ['bulk', 'queued'],
    ]);
  });

  it('finds a task named by its id in upper case, and answers with the id as sent', async () => {
    const { org, task } = await completedTask();
    const upper = task.id.toUpperCase();
    const result = await bulkTrigger(org.orgId, [{ taskId: upper }]);
    expect(result.results[0]).toMatchObject({ taskId: upper, status: 202 });
    expect((await taskRow(task.id)).status).toBe('Pending');
  });

  it('applies every applicable item among many refused ones', async () => {
    const { orgId } = await freshOrg();
    const other = await freshOrg();
    const applicable: string[] = [];
    for (let index = 0; index < 10; index += 1) applicable.push((await createTask(orgId)).id);
    const foreign = (await createTask(other.orgId)).id;
    const refused = [...Array.from({ length: 60 }, () => randomUUID()), foreign];
    const items = [...refused, ...applicable].map((taskId) => ({ taskId, queue: true }));

    const result = await bulkTrigger(orgId, items);
    expect(result).toMatchObject({ applied: true, succeeded: 10, failed: 61 });
    for (const item of result.results) expect(item.status).toBe(applicable.includes(item.taskId) ? 202 : 404);
    for (const taskId of applicable) expect((await taskRow(taskId)).queuedRunCount).toBe(1);
    expect(await runsOf(foreign)).toHaveLength(1);
  });

  it('estimates each item from the history of its own task type', async () => {
    const { orgId } = await freshOrg();
    const [known, unknown] = [`Known${Date.now()}`, `Unknown${Date.now()}`];
    const ids: string[] = [];
    for (const durationMs of [1000, 3000, 8000]) {
      const task = await createTask(orgId, { type: known });
      await dispatch();
      await finish(task.id, 'TaskCompleted', durationMs);
      ids.push(task.id);
    }
    const fresh = await createTask(orgId, { type: unknown });
    await dispatch();
    await finish(fresh.id, 'TaskFailed');

    const result = await bulkTrigger(
      orgId,
      [...ids, fresh.id].map((taskId) => ({ taskId })),
    );
    const expected = new Date(deps.clock.now().getTime() + 3000).toISOString();
    expect(result.results.map((item) => item.estimatedCompletion)).toEqual([
      expected,
      expected,
      expected,
      null,
    ]);
  });
});
