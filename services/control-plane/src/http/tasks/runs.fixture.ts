/** Shared set-up of the run tests (trigger, idempotent trigger, retry and cancel): HTTP through the app on a real database. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Task } from '@meridian/contracts/api/task';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { actorOf, createTestAppDeps, heartbeat, report } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { dispatchPendingTasks } from '../../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { startQueuedRuns } from '../../app/runs/start-queued-runs.js';
import { ExecutionEntity } from '../../persistence/entities/execution.entity.js';
import { TaskRunEntity } from '../../persistence/entities/task-run.entity.js';
import { TaskEntity } from '../../persistence/entities/task.entity.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

export let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
export let app: ReturnType<typeof createApp>;

/** One database and app per test file. */
export function useRunsFixture(): void {
  const database = useTestDatabase();
  beforeAll(async () => {
    deps = await createTestAppDeps(database.url);
    app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
  });
  afterAll(async () => {
    await deps.dataSource.destroy();
  });
}

/** An organisation of the test's own with one node of capacity 10 that has just sent a heartbeat. */
export async function freshOrg() {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  const beat = () => recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  await beat();
  return { orgId, nodeId, actor: actorOf(orgId), beat };
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is: key order and spacing of the caller's own. */
  rawBody?: string;
  headers?: Record<string, string>;
  permissions?: string[];
}

export async function call(orgId: string, method: string, path: string, options: CallOptions = {}) {
  const token = await signTestToken({ orgId, permissions: options.permissions });
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...options.headers };
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return app.request(`/api/v1${path}`, { method, headers, body });
}

export async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export async function createTask(orgId: string, overrides: Record<string, unknown> = {}): Promise<Task> {
  const body = { type: 'Echo', targetType: 'Service', targetId: 'target-1', ...overrides };
  return json<Task>(await call(orgId, 'POST', '/tasks', { body }), 201);
}

export async function taskRow(taskId: string): Promise<TaskEntity> {
  return deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: taskId });
}

export async function runsOf(taskId: string): Promise<TaskRunEntity[]> {
  return deps.dataSource
    .getRepository(TaskRunEntity)
    .find({ where: { taskId }, order: { runNumber: 'ASC' } });
}

export async function executionsOf(taskId: string): Promise<ExecutionEntity[]> {
  return deps.dataSource
    .getRepository(ExecutionEntity)
    .find({ where: { taskId }, order: { attempt: 'ASC' } });
}

export async function eventsOf(orgId: string, taskId: string): Promise<TaskEvent[]> {
  return (await json<{ items: TaskEvent[] }>(await call(orgId, 'GET', `/tasks/${taskId}/events`), 200)).items;
}

export const dispatch = () => dispatchPendingTasks(deps, 100);
export const startQueued = () => startQueuedRuns(deps, 100);

/** The agent's end report for the task's current execution: Completed, or Failed without retry. */
export async function finish(
  taskId: string,
  outcome: 'TaskCompleted' | 'TaskFailed' = 'TaskCompleted',
  durationMs = 1000,
): Promise<void> {
  const task = await taskRow(taskId);
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneByOrFail({ id: task.currentExecutionId! });
  const ref = { taskId, executionId: execution.id, nodeId: execution.nodeId };
  const fields =
    outcome === 'TaskCompleted'
      ? { exitCode: 0, durationMs }
      : { error: 'boom', exitCode: 1, retryable: false, durationMs };
  await recordAgentMessages(deps, [
    report(outcome, ref, execution.lastSequence + 1, fields, deps.clock.now()),
  ]);
}

/** A task of a fresh organisation, run once to Completed. */
export async function completedTask(overrides: Record<string, unknown> = {}) {
  const org = await freshOrg();
  const task = await createTask(org.orgId, overrides);
  await dispatch();
  await finish(task.id);
  expect((await taskRow(task.id)).status).toBe('Completed');
  return { org, task };
}
