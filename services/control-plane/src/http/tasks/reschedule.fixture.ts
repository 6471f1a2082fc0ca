/** Shared set-up of the reschedule and pause integration tests: the HTTP app on a real database, a manual clock. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RescheduleResponse } from '@meridian/contracts/api/reschedule';
import type { Task } from '@meridian/contracts/api/task';
import { createTestAppDeps, heartbeat, report } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { dispatchPendingTasks } from '../../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

export let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let app: ReturnType<typeof createApp>;

/** One database and app per test file. */
export function useRescheduleFixture(): void {
  const database = useTestDatabase();
  beforeAll(async () => {
    deps = await createTestAppDeps(database.url);
    app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
  });
  afterAll(async () => {
    await deps.dataSource.destroy();
  });
}

export interface Org {
  orgId: string;
  nodeId: string;
  /** A heartbeat at the clock's time, so that the node stays online as the clock moves. */
  beat(): Promise<void>;
}

/** An organisation of the test's own with one online node: no test sees another's rows. */
export async function freshOrg(): Promise<Org> {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  const beat = async () => {
    await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  };
  await beat();
  return { orgId, nodeId, beat };
}

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
  return JSON.parse(text) as T;
}

export async function reschedule(
  org: Org,
  taskId: string,
  body: unknown,
  status = 200,
): Promise<RescheduleResponse> {
  return json<RescheduleResponse>(
    await call('PUT', `/tasks/${taskId}/reschedule`, { orgId: org.orgId, body }),
    status,
  );
}

/** The clock's time plus `offsetMs`, as the API writes it. */
export const at = (offsetMs: number): string => new Date(deps.clock.now().getTime() + offsetMs).toISOString();

export async function createTask(org: Org, overrides: Record<string, unknown> = {}): Promise<Task> {
  const body = { type: 'Echo', targetType: 'Service', targetId: 'target-1', maxRetries: 0, ...overrides };
  return json<Task>(await call('POST', '/tasks', { orgId: org.orgId, body }), 201);
}

export async function getTask(org: Org, taskId: string): Promise<Task> {
  return json<Task>(await call('GET', `/tasks/${taskId}`, { orgId: org.orgId }), 200);
}

export interface StoredEvent {
  type: string;
  from_status: string | null;
  to_status: string | null;
  actor: string;
  execution_id: string | null;
  data: Record<string, unknown>;
}

export async function eventsOf(taskId: string): Promise<StoredEvent[]> {
  return deps.dataSource.query(
    `SELECT type, from_status, to_status, actor, execution_id, data FROM task_events WHERE task_id = $1 ORDER BY id`,
    [taskId],
  );
}

export interface StoredExecution {
  id: string;
  status: string;
  run_number: number;
  trigger_type: string;
  trigger_context: Record<string, unknown>;
}

export async function executionsOf(taskId: string): Promise<StoredExecution[]> {
  return deps.dataSource.query(
    `SELECT id, status, run_number, trigger_type, trigger_context FROM executions
      WHERE task_id = $1 ORDER BY dispatched_at, attempt`,
    [taskId],
  );
}

/** Runs a dispatch pass (its node heartbeating first); returns the task's execution out now, if any. */
export async function dispatch(org: Org, taskId: string): Promise<StoredExecution | undefined> {
  await org.beat();
  await dispatchPendingTasks(deps, 100);
  const task = await getTask(org, taskId);
  if (task.status !== 'Scheduled') return undefined;
  return (await executionsOf(taskId)).find((execution) => execution.id === task.currentExecutionId);
}

/** The agent's report that the execution out on `org`'s node ended. */
export async function finish(
  org: Org,
  taskId: string,
  executionId: string,
  outcome: 'Completed' | 'Failed' | 'FailedRetryable',
): Promise<void> {
  const ref = { taskId, executionId, nodeId: org.nodeId };
  const message =
    outcome === 'Completed'
      ? report('TaskCompleted', ref, 2, { exitCode: 0, durationMs: 1 })
      : report('TaskFailed', ref, 2, {
          error: 'boom',
          exitCode: 1,
          retryable: outcome === 'FailedRetryable',
        });
  await recordAgentMessages(deps, [message]);
}

/** Dispatches the task and reports its execution started: status Running. */
export async function startRunning(org: Org, taskId: string): Promise<string> {
  const execution = await dispatch(org, taskId);
  if (!execution) throw new Error(`task ${taskId} was not dispatched`);
  await recordAgentMessages(deps, [
    report('TaskStarted', { taskId, executionId: execution.id, nodeId: org.nodeId }, 1),
  ]);
  return execution.id;
}

/** Dispatches the task and reports its execution ended with `outcome`. */
export async function runOnce(
  org: Org,
  taskId: string,
  outcome: 'Completed' | 'Failed' | 'FailedRetryable' = 'Completed',
): Promise<string> {
  const execution = await dispatch(org, taskId);
  if (!execution) throw new Error(`task ${taskId} was not dispatched`);
  await finish(org, taskId, execution.id, outcome);
  return execution.id;
}

/** A task of `org` that has run once and ended with `status`. */
export async function finishedTask(org: Org, status: 'Completed' | 'Failed' = 'Completed'): Promise<Task> {
  const task = await createTask(org);
  await runOnce(org, task.id, status === 'Completed' ? 'Completed' : 'Failed');
  const finished = await getTask(org, task.id);
  expect(finished.status).toBe(status);
  return finished;
}
