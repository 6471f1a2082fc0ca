import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Execution, ExecutionList } from '@meridian/contracts/api/execution';
import type { Node } from '@meridian/contracts/api/node';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task, TaskList } from '@meridian/contracts/api/task';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { createTestAppDeps, heartbeat } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { dispatchPendingTasks } from '../../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  app = createApp({
    app: deps,
    auth: createAuthenticator({ secret: TEST_SECRET }),
    readiness: { postgres: async () => void (await deps.dataSource.query('SELECT 1')) },
  });
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

/** Each test works in an organisation of its own, so that no test sees another's rows. */
function freshOrg(): string {
  return `org-${randomUUID().slice(0, 8)}`;
}

interface CallOptions {
  orgId: string;
  body?: unknown;
  permissions?: string[];
  headers?: Record<string, string>;
}

async function call(method: string, path: string, options: CallOptions) {
  const token = await signTestToken({ orgId: options.orgId, permissions: options.permissions });
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return app.request(`/api/v1${path}`, { method, headers, body });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const taskBody = (overrides: Record<string, unknown> = {}) => ({
  type: 'Echo',
  name: 'echo',
  targetType: 'Service',
  targetId: 'target-1',
  ...overrides,
});

async function createTask(orgId: string, overrides: Record<string, unknown> = {}): Promise<Task> {
  return json<Task>(await call('POST', '/tasks', { orgId, body: taskBody(overrides) }), 201);
}

async function eventTypes(orgId: string, taskId: string): Promise<string[]> {
  const { items } = await json<{ items: TaskEvent[] }>(
    await call('GET', `/tasks/${taskId}/events`, { orgId }),
    200,
  );
  return items.map((event) => event.type);
}

describe('POST /api/v1/tasks', () => {
  it('creates a Pending task with the defaults applied, and records TaskCreated and TaskQueued', async () => {
    const orgId = freshOrg();
    const response = await call('POST', '/tasks', { orgId, body: taskBody() });
    const task = await json<Task>(response, 201);
    expect(task).toMatchObject({
      orgId,
      status: 'Pending',
      priority: 'Normal',
      timeoutSeconds: 300,
      maxRetries: 3,
      retryCount: 0,
      payload: {},
      metadata: {},
    });
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/${task.id}`);
    expect(await json<Task>(await call('GET', `/tasks/${task.id}`, { orgId }), 200)).toEqual(task);
    expect(await eventTypes(orgId, task.id)).toEqual(['TaskCreated', 'TaskQueued']);
  });

  it('echoes X-Correlation-Id and stores it on the task and its events', async () => {
    const orgId = freshOrg();
    const correlationId = `it-${randomUUID()}`;
    const response = await call('POST', '/tasks', {
      orgId,
      body: taskBody(),
      headers: { 'X-Correlation-Id': correlationId },
    });
    expect(response.headers.get('X-Correlation-Id')).toBe(correlationId);
    const task = await json<Task>(response, 201);
    expect(task.correlationId).toBe(correlationId);
    const { items } = await json<{ items: TaskEvent[] }>(
      await call('GET', `/tasks/${task.id}/events`, { orgId }),
      200,
    );
    expect(items.map((event) => event.correlationId)).toEqual([correlationId, correlationId]);
  });

  it.each([
    [{ priority: 'Urgent' }, 'body.priority'],
    [{ type: undefined }, 'body.type'],
    [{ colour: 'blue' }, 'body.colour'],
  ])('refuses %j with a 400 naming %s, and stores nothing', async (overrides, field) => {
    const orgId = freshOrg();
    const problem = await json<Problem>(
      await call('POST', '/tasks', { orgId, body: taskBody(overrides) }),
      400,
    );
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect((await json<TaskList>(await call('GET', '/tasks', { orgId }), 200)).total).toBe(0);
  });

  it('answers 422 naming nodeId for a node id outside the safe alphabet', async () => {
    const orgId = freshOrg();
    const problem = await json<Problem>(
      await call('POST', '/tasks', { orgId, body: taskBody({ nodeId: 'node one/two' }) }),
      422,
    );
    expect(problem.errors?.[0]?.field).toBe('nodeId');
  });

  it('accepts seed 004’s own body: no name (the type is used), scheduledAt null', async () => {
    const orgId = freshOrg();
    const serverId = '123e4567-e89b-12d3-a456-426614174000';
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    // The server is known: a node of the organisation reports it, so its ServerStart goes there.
    const changedAt = deps.clock.now().toISOString();
    const servers = [
      {
        serverId,
        state: 'stopped' as const,
        pid: null,
        startedAt: null,
        lastExitCode: 0,
        restarts: 0,
        changedAt,
      },
    ];
    await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 2, deps.clock.now(), { servers })]);
    const task = await json<Task>(
      await call('POST', '/tasks', {
        orgId,
        body: {
          type: 'ServerStart',
          targetType: 'Server',
          targetId: '123e4567-e89b-12d3-a456-426614174000',
          priority: 'Normal',
          scheduledAt: null,
          payload: { gracefulShutdown: true, timeoutSeconds: 300 },
          metadata: { initiatedBy: 'user-action' },
        },
      }),
      201,
    );
    expect(task).toMatchObject({
      name: 'ServerStart',
      nodeId,
      scheduledAt: null,
      status: 'Pending',
      runNumber: 1,
      triggerType: 'api',
    });
  });
});

describe('GET /api/v1/tasks', () => {
  it('paginates, filters and sorts within the caller’s organisation', async () => {
    const orgId = freshOrg();
    const created: Task[] = [];
    for (const [index, type] of ['Echo', 'Shell', 'Echo', 'Shell', 'Echo'].entries()) {
      deps.clock.advance(1000);
      created.push(await createTask(orgId, { type, targetId: `target-${index % 2}` }));
    }
    const ids = created.map((task) => task.id);

    const page2 = await json<TaskList>(await call('GET', '/tasks?limit=2&page=2', { orgId }), 200);
    expect(page2).toMatchObject({ page: 2, limit: 2, total: 5 });
    expect(page2.items.map((task) => task.id)).toEqual([ids[2], ids[1]]);

    const ascending = await json<TaskList>(
      await call('GET', '/tasks?sort=createdAt&order=asc', { orgId }),
      200,
    );
    expect(ascending.items.map((task) => task.id)).toEqual(ids);

    const shells = await json<TaskList>(await call('GET', '/tasks?type=Shell', { orgId }), 200);
    expect(shells.total).toBe(2);
    expect(shells.items.every((task) => task.type === 'Shell')).toBe(true);

    const target0 = await json<TaskList>(
      await call('GET', '/tasks?targetId=target-0&order=asc', { orgId }),
      200,
    );
    expect(target0.items.map((task) => task.id)).toEqual([ids[0], ids[2], ids[4]]);

    const pending = await json<TaskList>(await call('GET', '/tasks?status=Pending', { orgId }), 200);
    expect(pending.total).toBe(5);
    const cancelled = await json<TaskList>(await call('GET', '/tasks?status=Cancelled', { orgId }), 200);
    expect(cancelled.total).toBe(0);
  });

  it('refuses limit=500 and an unknown status with 400 naming the parameter', async () => {
    const orgId = freshOrg();
    const tooMany = await json<Problem>(await call('GET', '/tasks?limit=500', { orgId }), 400);
    expect(tooMany.errors?.map((error) => error.field)).toEqual(['query.limit']);
    const badStatus = await json<Problem>(await call('GET', '/tasks?status=Sleeping', { orgId }), 400);
    expect(badStatus.errors?.map((error) => error.field)).toEqual(['query.status']);
  });
});

describe('cancel and retry', () => {
  it('cancels a Pending task, then answers 409 to a second cancel and records TransitionRejected', async () => {
    const orgId = freshOrg();
    const task = await createTask(orgId);
    const cancelled = await json<Task>(
      await call('DELETE', `/tasks/${task.id}?reason=not%20needed`, { orgId }),
      200,
    );
    expect(cancelled).toMatchObject({
      status: 'Cancelled',
      cancelledBy: 'user-1',
      cancellationReason: 'not needed',
    });

    const again = await json<Problem>(
      await call('DELETE', `/tasks/${task.id}`, { orgId, body: { reason: 'twice' } }),
      409,
    );
    expect(again).toMatchObject({ status: 409, instance: `/api/v1/tasks/${task.id}` });
    expect(await eventTypes(orgId, task.id)).toEqual([
      'TaskCreated',
      'TaskQueued',
      'TaskCancelled',
      'TransitionRejected',
    ]);
  });

  it('takes the cancellation reason from a JSON body', async () => {
    const orgId = freshOrg();
    const task = await createTask(orgId);
    const cancelled = await json<Task>(
      await call('DELETE', `/tasks/${task.id}`, { orgId, body: { reason: 'from the body' } }),
      200,
    );
    expect(cancelled.cancellationReason).toBe('from the body');
  });

  it('answers 409 to a retry of a Pending task', async () => {
    const orgId = freshOrg();
    const task = await createTask(orgId);
    const problem = await json<Problem>(await call('POST', `/tasks/${task.id}/retry`, { orgId }), 409);
    expect(problem.type).toBe('/problems/conflict');
    expect((await json<Task>(await call('GET', `/tasks/${task.id}`, { orgId }), 200)).status).toBe('Pending');
  });
});

describe('executions and nodes', () => {
  it('lists and gets the executions of a dispatched task, and the node it went to', async () => {
    const orgId = freshOrg();
    const nodeId = `node-${randomUUID().slice(0, 8)}`;
    await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 4, deps.clock.now())]);
    const task = await createTask(orgId, { nodeId });
    expect(await dispatchPendingTasks(deps, 100)).toBeGreaterThanOrEqual(1);

    const list = await json<ExecutionList>(
      await call('GET', `/tasks/${task.id}/executions?limit=10`, { orgId }),
      200,
    );
    expect(list).toMatchObject({ page: 1, limit: 10, total: 1 });
    const [first] = list.items;
    expect(first).toMatchObject({ taskId: task.id, attempt: 1, nodeId, status: 'Dispatched' });

    const execution = await json<Execution>(
      await call('GET', `/tasks/executions/${first!.executionId}`, { orgId }),
      200,
    );
    expect(execution).toEqual(first);

    const nodes = await json<{ items: Node[] }>(await call('GET', '/nodes', { orgId }), 200);
    expect(nodes.items.map((node) => node.id)).toEqual([nodeId]);
    const node = await json<Node>(await call('GET', `/nodes/${nodeId}`, { orgId }), 200);
    expect(node).toMatchObject({ id: nodeId, orgId, capacity: 4, runningCount: 1, status: 'online' });

    const stranger = freshOrg();
    await json<Problem>(
      await call('GET', `/tasks/executions/${first!.executionId}`, { orgId: stranger }),
      404,
    );
    await json<Problem>(await call('GET', `/nodes/${nodeId}`, { orgId: stranger }), 404);
    expect(
      (await json<{ items: Node[] }>(await call('GET', '/nodes', { orgId: stranger }), 200)).items,
    ).toEqual([]);
  });
});

describe('organisations and permissions', () => {
  it('answers 404 to another organisation on every task route, and lists none of its tasks', async () => {
    const owner = freshOrg();
    const task = await createTask(owner);
    const stranger = freshOrg();
    for (const [method, path] of [
      ['GET', `/tasks/${task.id}`],
      ['DELETE', `/tasks/${task.id}`],
      ['POST', `/tasks/${task.id}/retry`],
      ['GET', `/tasks/${task.id}/executions`],
      ['GET', `/tasks/${task.id}/events`],
    ] as const) {
      const problem = await json<Problem>(await call(method, path, { orgId: stranger }), 404);
      expect(problem.detail).toContain(task.id);
    }
    const list = await json<TaskList>(await call('GET', '/tasks', { orgId: stranger }), 200);
    expect(list).toMatchObject({ items: [], total: 0 });
    expect((await json<Task>(await call('GET', `/tasks/${task.id}`, { orgId: owner }), 200)).status).toBe(
      'Pending',
    );
  });

  it('answers 401 without a token or with a bad one, and 403 without the permission', async () => {
    const orgId = freshOrg();
    const anonymous = await app.request('/api/v1/tasks');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('WWW-Authenticate')).toBe('Bearer');
    const forged = await app.request('/api/v1/tasks', { headers: { Authorization: 'Bearer not.a.token' } });
    expect(forged.status).toBe(401);

    const readOnly = await call('POST', '/tasks', { orgId, body: taskBody(), permissions: ['task:read'] });
    const problem = await json<Problem>(readOnly, 403);
    expect(problem.detail).toContain('task:write');
    expect((await json<TaskList>(await call('GET', '/tasks', { orgId }), 200)).total).toBe(0);
  });
});

describe('operational endpoints', () => {
  it('serves an OpenAPI 3.1 document listing the task routes', async () => {
    const document = await json<{ openapi: string; paths: Record<string, unknown> }>(
      await app.request('/openapi.json'),
      200,
    );
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.paths).toHaveProperty('/api/v1/tasks');
  });

  it('is live, ready against the real database, and not ready when a check throws', async () => {
    expect((await app.request('/livez')).status).toBe(200);
    const ready = await json<{ checks: Record<string, { status: string }> }>(
      await app.request('/readyz'),
      200,
    );
    expect(ready.checks['postgres']?.status).toBe('Healthy');

    const broken = createApp({
      app: deps,
      auth: createAuthenticator({ secret: TEST_SECRET }),
      readiness: { rabbitmq: () => Promise.reject(new Error('broker not connected')) },
    });
    const notReady = await json<{ detail: string }>(await broken.request('/readyz'), 503);
    expect(notReady.detail).toBe('not ready: rabbitmq is down');
  });
});
