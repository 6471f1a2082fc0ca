/** Seed 000's trigger limits over HTTP: what counts, the 429 and its headers, and replicas sharing one limit. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task } from '@meridian/contracts/api/task';
import { createTestAppDeps } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import type { AppDeps, TriggerLimits } from '../../app/app-deps.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

const database = useTestDatabase();
const LIMITS: TriggerLimits = {
  perUserPerHour: 6,
  perTaskPerHour: 3,
  perOrgPerHour: 10,
  systemPerMinute: 1000,
};

type App = ReturnType<typeof createApp>;
const replicas: { deps: AppDeps; app: App }[] = [];

beforeAll(async () => {
  for (let index = 0; index < 2; index += 1) {
    const deps = { ...(await createTestAppDeps(database.url)), triggerLimits: LIMITS };
    replicas.push({
      deps,
      app: createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} }),
    });
  }
});
afterAll(async () => {
  await Promise.all(replicas.map(({ deps }) => deps.dataSource.destroy()));
});

async function call(app: App, orgId: string, method: string, path: string, body?: unknown, sub = 'user-1') {
  const token = await signTestToken({ orgId, sub });
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return app.request(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function newTask(orgId: string): Promise<string> {
  const response = await call(replicas[0]!.app, orgId, 'POST', '/tasks', {
    type: 'Echo',
    targetType: 'Service',
    targetId: 'target-1',
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as Task).id;
}

const trigger = (app: App, orgId: string, taskId: string, sub?: string) =>
  call(app, orgId, 'POST', `/tasks/${taskId}/trigger`, { queue: true }, sub);

describe('trigger limits over HTTP', () => {
  it('counts every trigger of a task, answers its headers, and refuses the one past the per-task limit', async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const taskId = await newTask(orgId);
    const app = replicas[0]!.app;
    const remaining: string[] = [];
    for (let index = 0; index < LIMITS.perTaskPerHour; index += 1) {
      const response = await trigger(app, orgId, taskId);
      expect(response.status).toBe(202);
      expect(response.headers.get('RateLimit-Limit')).toBe(String(LIMITS.perTaskPerHour));
      remaining.push(response.headers.get('RateLimit-Remaining')!);
      expect(Number(response.headers.get('RateLimit-Reset'))).toBeGreaterThan(0);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const refused = await trigger(app, orgId, taskId);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    const problem = (await refused.json()) as Problem;
    expect(problem.status).toBe(429);
    expect(problem.detail).toMatch(/per-task trigger limit of 3 per hour/);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(refused.headers.get('RateLimit-Remaining')).toBe('0');
    // A reschedule of the same task counts against the same limit.
    const reschedule = await call(app, orgId, 'PUT', `/tasks/${taskId}/reschedule`, {
      strategy: 'immediate',
    });
    expect(reschedule.status).toBe(429);
  });

  it('limits one user across tasks, and the org across users', async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const app = replicas[0]!.app;
    const tasks = await Promise.all(Array.from({ length: 5 }, () => newTask(orgId)));
    const statuses: number[] = [];
    for (const taskId of [...tasks, ...tasks].slice(0, LIMITS.perUserPerHour + 1)) {
      statuses.push((await trigger(app, orgId, taskId, 'alice')).status);
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    const perUser = await trigger(app, orgId, tasks[4]!, 'alice');
    expect(((await perUser.json()) as Problem).detail).toMatch(/per-user/);

    // Alice used 6 of the org's 10; Bob gets the 4 left, then the org limit answers.
    const bob: number[] = [];
    for (const taskId of tasks) bob.push((await trigger(app, orgId, taskId, 'bob')).status);
    expect(bob.slice(0, 4).every((status) => status !== 429)).toBe(true);
    expect(bob[4]).toBe(429);
    const perOrg = await trigger(app, orgId, tasks[1]!, 'bob');
    expect(((await perOrg.json()) as Problem).detail).toMatch(/per-org/);
  });

  it('counts a 404 (the call reached the work) but not a 400 or a 403', async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const app = replicas[0]!.app;
    const unknown = randomUUID();
    expect((await trigger(app, orgId, unknown)).status).toBe(404);
    expect((await call(app, orgId, 'POST', `/tasks/${unknown}/trigger`, { bogus: 1 })).status).toBe(400);
    const token = await signTestToken({ orgId, permissions: ['task:read'] });
    const forbidden = await app.request(`/api/v1/tasks/${unknown}/trigger`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(forbidden.status).toBe(403);
    const next = await trigger(app, orgId, unknown);
    expect(next.status).toBe(404);
    expect(next.headers.get('RateLimit-Remaining')).toBe(String(LIMITS.perTaskPerHour - 2));
  });

  it('is one limit for two replicas on one database: exactly the limit passes under a race', async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const taskId = await newTask(orgId);
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) => trigger(replicas[index % 2]!.app, orgId, taskId)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(12 - LIMITS.perTaskPerHour);
    expect(statuses.filter((status) => status === 202)).toHaveLength(LIMITS.perTaskPerHour);
  });
});
