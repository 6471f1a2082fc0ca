import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { TaskEvent, TaskEventList } from '@meridian/contracts/api/task-event';
import { actorOf, createTestAppDeps } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { createTask } from '../../app/create-task.js';
import { appendTaskEvents, type NewTaskEvent } from '../../persistence/task-event.writes.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

export type TestDeps = Awaited<ReturnType<typeof createTestAppDeps>>;

/** The API on this file's own database, and the use cases' dependencies behind it. */
export function useEventsApp() {
  const database = useTestDatabase();
  const state = {} as { deps: TestDeps; app: ReturnType<typeof createApp> };
  beforeAll(async () => {
    state.deps = await createTestAppDeps(database.url);
    state.app = createApp({
      app: state.deps,
      auth: createAuthenticator({ secret: TEST_SECRET }),
      readiness: {},
    });
  });
  afterAll(async () => {
    await state.deps.dataSource.destroy();
  });
  return state;
}

export const freshOrg = (): string => `org-${randomUUID().slice(0, 8)}`;

export interface TaskRef {
  id: string;
  orgId: string;
}

/** A task made by the use case (its TaskCreated and TaskQueued events included). */
export async function newTask(deps: TestDeps, orgId: string): Promise<TaskRef> {
  const task = await createTask(deps, actorOf(orgId), {
    type: 'Echo',
    name: 'echo',
    priority: 'Normal',
    targetType: 'Service',
    targetId: 'target-1',
    payload: {},
    metadata: {},
  });
  return { id: task.id, orgId };
}

export type EventSpec = Partial<Omit<NewTaskEvent, 'orgId' | 'taskId'>>;

/**
 * Appends events as every writer of the app does: in a transaction holding the task's row lock.
 * `holdMs` keeps the transaction open after the insert (to make commits overlap).
 */
export async function appendEvents(
  deps: TestDeps,
  task: TaskRef,
  specs: readonly EventSpec[],
  holdMs = 0,
): Promise<void> {
  await deps.dataSource.transaction(async (manager) => {
    await manager.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [task.id]);
    await appendTaskEvents(
      manager,
      specs.map((spec) => ({
        type: 'TaskProgress',
        actor: 'system:test',
        correlationId: 'corr-test',
        occurredAt: deps.clock.now(),
        ...spec,
        orgId: task.orgId,
        taskId: task.id,
      })),
    );
    if (holdMs > 0) await manager.query('SELECT pg_sleep($1)', [holdMs / 1000]);
  });
}

export async function request(
  state: { app: ReturnType<typeof createApp> },
  orgId: string,
  path: string,
  permissions?: string[],
): Promise<Response> {
  const token = await signTestToken({ orgId, permissions });
  return state.app.request(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
}

export async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export async function page(
  state: { app: ReturnType<typeof createApp> },
  orgId: string,
  path: string,
): Promise<TaskEventList> {
  return expectStatus<TaskEventList>(await request(state, orgId, path), 200);
}

export async function problem(
  state: { app: ReturnType<typeof createApp> },
  orgId: string,
  path: string,
  status: number,
): Promise<Problem> {
  return expectStatus<Problem>(await request(state, orgId, path), status);
}

/** Every page from the first, following `nextCursor` while `hasMore` says a page was full. */
export async function allPages(
  state: { app: ReturnType<typeof createApp> },
  orgId: string,
  path: string,
  query: Record<string, string> = {},
): Promise<TaskEvent[][]> {
  const pages: TaskEvent[][] = [];
  let cursor: string | null = null;
  let more = true;
  while (more) {
    const params = new URLSearchParams({ ...query, ...(cursor === null ? {} : { cursor }) });
    const body = await page(state, orgId, `${path}?${params.toString()}`);
    pages.push(body.items);
    cursor = body.nextCursor;
    more = body.hasMore;
  }
  return pages;
}

export const ids = (events: readonly TaskEvent[]): string[] => events.map((event) => event.eventId);
