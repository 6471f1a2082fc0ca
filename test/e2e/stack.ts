import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  startAgent,
  startControlPlane,
  TEST_JWT_SECRET,
  type AgentProcess,
  type ControlPlaneProcess,
} from '../support/processes.js';
import {
  deleteBrokerObjects,
  failOnLeakedProcesses,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../support/test-context.js';
import { signToken } from '../support/tokens.js';

export const ALL_PERMISSIONS = [
  'task:read',
  'task:write',
  'task:trigger',
  'task:reschedule',
  'task:read-events',
  'node:read',
];

export interface Stack {
  prefix: string;
  orgId: string;
  nodeId: string;
  controlPlane: ControlPlaneProcess;
  agent: AgentProcess;
  db: pg.Pool;
  databaseUrl: string;
  amqpUrl: string;
  token: string;
  tokenFor(orgId: string, permissions?: string[]): Promise<string>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  /** Polls a task until it reaches one of `statuses`; returns it. */
  waitForStatus(taskId: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * One real control-plane process and one real agent process for a test file, on a database and a
 * broker prefix of the file's own. Call at the top level of the file; the stack is torn down in
 * afterAll, broker objects included.
 */
export function useStack(
  options: { capacity?: number; env?: Record<string, string>; agentEnv?: Record<string, string> } = {},
): Stack {
  // Registered first so that it runs after the stops below and catches what they missed.
  failOnLeakedProcesses();
  const database = useTestDatabase();
  const stack = { prefix: uniquePrefix(), orgId: `org-${Math.random().toString(16).slice(2, 8)}` } as Stack;
  stack.nodeId = `${stack.prefix}-node`;

  beforeAll(async () => {
    stack.amqpUrl = testAmqpUrl();
    stack.databaseUrl = database.url;
    stack.db = new pg.Pool({ connectionString: database.url, max: 2 });
    stack.controlPlane = await startControlPlane({
      databaseUrl: database.url,
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      env: { POLL_INTERVAL_MS: '200', ...options.env },
    });
    stack.agent = await startAgent({
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      nodeId: stack.nodeId,
      orgId: stack.orgId,
      maxConcurrency: options.capacity ?? 10,
      env: options.agentEnv,
    });
    stack.tokenFor = (orgId, permissions = ALL_PERMISSIONS) =>
      signToken({ secret: TEST_JWT_SECRET, orgId, sub: 'e2e-user', permissions });
    stack.token = await stack.tokenFor(stack.orgId);
    stack.api = async (method, path, { body, token } = {}) => {
      const response = await fetch(`${stack.controlPlane.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token ?? stack.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: (text ? JSON.parse(text) : null) as never,
        headers: response.headers,
      };
    };
    stack.waitForStatus = async (taskId, statuses, timeoutMs = 15_000) =>
      waitFor(
        async () => {
          const { body } = await stack.api<Record<string, unknown>>('GET', `/api/v1/tasks/${taskId}`);
          return statuses.includes(String(body['status'])) ? body : undefined;
        },
        { timeoutMs, description: `task ${taskId} to reach ${statuses.join('|')}` },
      );
    await waitFor(
      async () => {
        const { status, body } = await stack.api<{ status: string }>('GET', `/api/v1/nodes/${stack.nodeId}`);
        return status === 200 && body.status === 'online';
      },
      { timeoutMs: 20_000, description: `node ${stack.nodeId} to be online` },
    );
  });

  afterAll(async () => {
    await stack.agent?.stop();
    await stack.controlPlane?.stop();
    await stack.db?.end();
    await deleteBrokerObjects(testAmqpUrl(), stack.prefix, { nodeIds: [stack.nodeId] });
  });
  return stack;
}

export function commandTask(command: string[] | string, extra: Record<string, unknown> = {}) {
  return {
    type: 'Command',
    name: 'e2e',
    targetType: 'Service',
    targetId: 'e2e-target',
    payload: typeof command === 'string' ? { command, shell: true } : { command },
    ...extra,
  };
}
