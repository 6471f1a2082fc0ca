/** Batches over HTTP on a real database: creation, the DAG view, 400s naming fields, DELETE and tenancy. */
import { describe, expect, it } from 'vitest';
import type { Batch, BatchList } from '@meridian/contracts/api/batch';
import type { Problem } from '@meridian/contracts/api/problem';
import {
  call,
  completedTask,
  createTask,
  deps,
  dispatch,
  eventsOf,
  finish,
  freshOrg,
  json,
  taskRow,
  useRunsFixture,
} from '../tasks/runs.fixture.js';
import { advance, batchEvents, createBatch, echo, getBatch, taskOf } from './batches.fixture.js';

useRunsFixture();

const problemOf = (response: Response) => json<Problem>(response, 400);

describe('POST /tasks/batch', () => {
  it('queues the roots at once and keeps the others waiting, with the DAG in the answer', async () => {
    const { orgId } = await freshOrg();
    const response = await call(orgId, 'POST', '/tasks/batch', {
      body: {
        name: 'diamond',
        tasks: [
          echo('a'),
          echo('b', { dependsOn: ['a'] }),
          echo('c', {
            dependsOn: ['a'],
            onFailure: [{ type: 'Echo', targetType: 'Service', targetId: 'game-1' }],
          }),
          echo('d', { dependsOn: ['b', 'c'] }),
        ],
      },
    });
    const batch = await json<Batch>(response, 201);
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/batches/${batch.id}`);
    expect(batch).toMatchObject({ name: 'diamond', status: 'Running', failurePolicy: 'cancel-dependents' });
    expect(batch.tasks.map((t) => [t.name, t.role, t.status, t.dependsOn, t.dependents])).toEqual([
      ['a', 'step', 'Pending', [], ['b', 'c']],
      ['b', 'step', 'Created', ['a'], ['d']],
      ['c', 'step', 'Created', ['a'], ['d']],
      ['d', 'step', 'Created', ['b', 'c'], []],
      ['c/onFailure[0]', 'compensation', 'Created', [], []],
    ]);
    expect(taskOf(batch, 'c/onFailure[0]').compensates).toBe('c');
    expect(taskOf(batch, 'a').releasedAt).toBe(batch.createdAt);
    expect(taskOf(batch, 'b').releasedAt).toBeNull();
    expect(batch.counts).toMatchObject({ steps: 4, waiting: 3, running: 1, compensations: 1 });
    // A waiting step is not dispatched.
    await dispatch();
    expect((await taskRow(taskOf(batch, 'a').taskId)).status).toBe('Scheduled');
    expect((await taskRow(taskOf(batch, 'b').taskId)).status).toBe('Created');
    const events = await batchEvents(orgId, batch.id);
    expect(events.map((e) => e.type)).toEqual(['BatchCreated', 'ViableStepsDiscovered']);
    expect(events[1]!.data).toMatchObject({ stepIds: [taskOf(batch, 'a').taskId], batchSize: 1 });
    expect((await eventsOf(orgId, taskOf(batch, 'b').taskId)).map((e) => e.type)).toEqual(['TaskCreated']);
  });

  it('waits for an existing task of the organisation until it completes', async () => {
    const { orgId } = await freshOrg();
    const before = await createTask(orgId);
    const batch = await createBatch(orgId, { tasks: [echo('after', { dependsOn: [before.id] })] });
    expect(taskOf(batch, 'after')).toMatchObject({ status: 'Created', dependsOn: [before.id] });
    await advance();
    expect(taskOf(await getBatch(orgId, batch.id), 'after').status).toBe('Created');
    const events = await batchEvents(orgId, batch.id);
    expect(events.map((event) => event.type)).toEqual(['BatchCreated', 'NoViableSteps']);
    expect(events[1]!.data).toEqual({
      reason: 'waiting for tasks outside the batch',
      blockedSteps: ['after'],
    });
    await dispatch();
    await finish(before.id);
    await advance();
    expect(taskOf(await getBatch(orgId, batch.id), 'after').status).toBe('Pending');
  });

  it('releases at once a step whose existing dependency has already completed', async () => {
    const { task: before, org } = await completedTask();
    const batch = await createBatch(org.orgId, { tasks: [echo('after', { dependsOn: [before.id] })] });
    await advance();
    expect(taskOf(await getBatch(org.orgId, batch.id), 'after').status).toBe('Pending');
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a duplicate name', { tasks: [echo('a'), echo('b'), echo('a')] }, 'body.tasks[2].name', /tasks\[0\]/],
    [
      'an unknown dependency',
      { tasks: [echo('a'), echo('b', { dependsOn: ['nope'] })] },
      'body.tasks[1].dependsOn[0]',
      /"nope"/,
    ],
    [
      'a self dependency',
      { tasks: [echo('a', { dependsOn: ['a'] })] },
      'body.tasks[0].dependsOn[0]',
      /itself/,
    ],
    [
      'a cycle',
      {
        tasks: [
          echo('a', { dependsOn: ['c'] }),
          echo('b', { dependsOn: ['a'] }),
          echo('c', { dependsOn: ['b'] }),
        ],
      },
      'body.tasks[0].dependsOn[0]',
      /a → c → b → a/,
    ],
    [
      'more than 500 tasks',
      { tasks: Array.from({ length: 501 }, (_, index) => echo(`s${index}`)) },
      'body.tasks',
      /at most 500/,
    ],
    [
      'a payload its type refuses',
      {
        tasks: [echo('a'), { name: 'b', type: 'Command', targetType: 'Service', targetId: 'x', payload: {} }],
      },
      'body.tasks[1].payload',
      /./,
    ],
    [
      'a compensation’s payload its type refuses',
      {
        tasks: [
          echo('a', { onFailure: [{ type: 'Command', targetType: 'Service', targetId: 'x', payload: {} }] }),
        ],
      },
      'body.tasks[0].onFailure[0].payload',
      /./,
    ],
  ])('refuses %s with a 400 naming the field, creating nothing', async (_, body, field, message) => {
    const { orgId } = await freshOrg();
    const problem = await problemOf(await call(orgId, 'POST', '/tasks/batch', { body }));
    const error = problem.errors?.find((item) => item.field.startsWith(field));
    expect(error, JSON.stringify(problem.errors)).toBeDefined();
    expect(error!.message).toMatch(message);
    const list = await json<BatchList>(await call(orgId, 'GET', '/tasks/batches'), 200);
    expect(list.total).toBe(0);
  });

  it('gives the cycle’s path in the detail', async () => {
    const { orgId } = await freshOrg();
    const body = { tasks: [echo('x', { dependsOn: ['y'] }), echo('y', { dependsOn: ['x'] })] };
    const problem = await problemOf(await call(orgId, 'POST', '/tasks/batch', { body }));
    expect(problem.detail).toBe("the tasks' dependencies form a cycle: x → y → x");
  });
});

describe('GET /tasks/batches', () => {
  it('pages newest first and filters by status', async () => {
    const { orgId } = await freshOrg();
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      deps.clock.advance(1000);
      ids.push((await createBatch(orgId, { name, tasks: [echo('a')] })).id);
    }
    await call(orgId, 'DELETE', `/tasks/batches/${ids[0]}`);
    const page = await json<BatchList>(await call(orgId, 'GET', '/tasks/batches?limit=2'), 200);
    expect(page).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(page.items.map((b) => b.name)).toEqual(['three', 'two']);
    const cancelled = await json<BatchList>(await call(orgId, 'GET', '/tasks/batches?status=Cancelled'), 200);
    expect(cancelled.items.map((b) => b.id)).toEqual([ids[0]]);
  });
});

describe('DELETE /tasks/batches/{id}', () => {
  it('cancels what waits, stops what runs, and a second DELETE is a 409', async () => {
    const { orgId } = await freshOrg();
    const batch = await createBatch(orgId, {
      tasks: [
        echo('a'),
        echo('b', {
          dependsOn: ['a'],
          onFailure: [
            echo('undo').constructor === Object ? { type: 'Echo', targetType: 'Service', targetId: 'g' } : {},
          ],
        }),
      ],
    });
    await dispatch();
    const cancelled = await json<Batch>(await call(orgId, 'DELETE', `/tasks/batches/${batch.id}`), 200);
    expect(cancelled.status).toBe('Cancelled');
    expect(cancelled.finishedAt).not.toBeNull();
    expect(cancelled.tasks.map((t) => [t.name, t.status])).toEqual([
      ['a', 'Cancelled'],
      ['b', 'Cancelled'],
      ['b/onFailure[0]', 'Cancelled'],
    ]);
    const a = await taskRow(taskOf(batch, 'a').taskId);
    expect(a.cancellationReason).toBe('batch cancelled');
    await advance();
    expect((await getBatch(orgId, batch.id)).status).toBe('Cancelled');
    expect((await batchEvents(orgId, batch.id)).map((e) => e.type)).toContain('BatchCancelled');
    const again = await call(orgId, 'DELETE', `/tasks/batches/${batch.id}`);
    expect(again.status).toBe(409);
  });
});

describe('GET /tasks/batches/{id}/events', () => {
  it('pages with a cursor and refuses a cursor of another batch', async () => {
    const { orgId } = await freshOrg();
    const batch = await createBatch(orgId, { tasks: [echo('a'), echo('b')] });
    const other = await createBatch(orgId, { tasks: [echo('a')] });
    const first = await json<{ items: { type: string }[]; nextCursor: string; hasMore: boolean }>(
      await call(orgId, 'GET', `/tasks/batches/${batch.id}/events?limit=1`),
      200,
    );
    expect(first.items.map((e) => e.type)).toEqual(['BatchCreated']);
    expect(first.hasMore).toBe(true);
    const second = await json<{ items: { type: string }[] }>(
      await call(orgId, 'GET', `/tasks/batches/${batch.id}/events?cursor=${first.nextCursor}`),
      200,
    );
    expect(second.items.map((e) => e.type)).toEqual(['ViableStepsDiscovered']);
    const wrong = await problemOf(
      await call(orgId, 'GET', `/tasks/batches/${other.id}/events?cursor=${first.nextCursor}`),
    );
    expect(wrong.errors?.[0]?.field).toBe('query.cursor');
  });
});

describe('tenant isolation', () => {
  it('answers 404 for another organisation’s batch on every route and refuses its tasks as dependencies', async () => {
    const owner = await freshOrg();
    const stranger = await freshOrg();
    const batch = await createBatch(owner.orgId, { tasks: [echo('a')] });
    for (const [method, path] of [
      ['GET', `/tasks/batches/${batch.id}`],
      ['DELETE', `/tasks/batches/${batch.id}`],
      ['GET', `/tasks/batches/${batch.id}/events`],
    ] as const) {
      const response = await call(stranger.orgId, method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.text()).not.toContain(owner.orgId);
    }
    const list = await json<BatchList>(await call(stranger.orgId, 'GET', '/tasks/batches'), 200);
    expect(list.total).toBe(0);
    const foreign = taskOf(batch, 'a').taskId;
    const problem = await problemOf(
      await call(stranger.orgId, 'POST', '/tasks/batch', {
        body: { tasks: [echo('b', { dependsOn: [foreign] })] },
      }),
    );
    expect(problem.errors?.[0]?.field).toBe('body.tasks[0].dependsOn[0]');
    expect((await getBatch(owner.orgId, batch.id)).status).toBe('Running');
  });

  it('needs task:write to create and task:read-events for events', async () => {
    const { orgId } = await freshOrg();
    const create = await call(orgId, 'POST', '/tasks/batch', {
      body: { tasks: [echo('a')] },
      permissions: ['task:read'],
    });
    expect(create.status).toBe(403);
    const batch = await createBatch(orgId, { tasks: [echo('a')] });
    const events = await call(orgId, 'GET', `/tasks/batches/${batch.id}/events`, {
      permissions: ['task:read'],
    });
    expect(events.status).toBe(403);
  });
});
