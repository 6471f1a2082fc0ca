/** Shared set-up of the recurring-task integration tests: a real database, three "replicas" on one manual clock. */
// First: @hono/zod-openapi adds `.openapi()` to zod schemas built after it (the contracts' too).
import '@hono/zod-openapi';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RecurringTask } from '@meridian/contracts/api/recurring';
import { createTestAppDeps, ManualClock } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import type { AppDeps } from '../../app/app-deps.js';
import { fireDueRecurringTasks } from '../../app/recurring/fire-due-recurring-tasks.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

type TestDeps = AppDeps & { clock: ManualClock };

export const clock = new ManualClock();
/** Three sets of use-case dependencies, each with a pool of its own: three control-plane replicas. */
export let replicas: TestDeps[] = [];
let app: ReturnType<typeof createApp>;

export function useRecurringFixture(): void {
  const database = useTestDatabase();
  beforeAll(async () => {
    replicas = await Promise.all([1, 2, 3].map(() => createTestAppDeps(database.url, clock)));
    app = createApp({ app: replicas[0]!, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((deps) => deps.dataSource.destroy()));
  });
}

export const deps = (): TestDeps => replicas[0]!;

/** An organisation of the test's own: no test sees another's rows. */
export const freshOrg = (): string => `org-${randomUUID().slice(0, 8)}`;

export async function call(
  method: string,
  path: string,
  options: { orgId: string; body?: unknown; permissions?: string[] },
): Promise<Response> {
  const token = await signTestToken({ orgId: options.orgId, permissions: options.permissions });
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return app.request(`/api/v1${path}`, { method, headers, body });
}

export async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return text === '' ? (undefined as T) : (JSON.parse(text) as T);
}

export const ECHO = { type: 'Echo', targetType: 'Service', targetId: 'target-1' };

export async function createRecurring(orgId: string, body: Record<string, unknown>): Promise<RecurringTask> {
  const full = { name: 'nightly', ...ECHO, schedule: '0 * * * *', ...body };
  return json<RecurringTask>(await call('POST', '/tasks/recurring', { orgId, body: full }), 201);
}

export async function getRecurring(orgId: string, id: string): Promise<RecurringTask> {
  return json<RecurringTask>(await call('GET', `/tasks/recurring/${id}`, { orgId }), 200);
}

/** Runs the recurring loop's passes of every replica at once until none finds anything due. */
export async function sweepAll(): Promise<void> {
  for (;;) {
    const handled = await Promise.all(replicas.map((replica) => fireDueRecurringTasks(replica, 100)));
    if (handled.every((count) => count === 0)) return;
  }
}

export interface StoredTask {
  id: string;
  status: string;
  trigger_type: string;
  name: string;
  occurrence: string;
}

/** The tasks a recurring task created, by occurrence, from their first runs' trigger context. */
export async function tasksOf(recurringTaskId: string): Promise<StoredTask[]> {
  return deps().dataSource.query(
    `SELECT task.id, task.status, task.trigger_type, task.name, run.trigger_context->>'occurrence' AS occurrence
       FROM tasks task JOIN task_runs run ON run.task_id = task.id AND run.run_number = 1
      WHERE run.trigger_context->>'recurringTaskId' = $1
      ORDER BY run.trigger_context->>'occurrence'`,
    [recurringTaskId],
  );
}

/** The clock's time rounded down to `stepMs`, plus `offsetMs`. */
export function alignedAt(stepMs: number, offsetMs = 0): Date {
  const now = clock.now().getTime();
  return new Date(now - (now % stepMs) + offsetMs);
}
