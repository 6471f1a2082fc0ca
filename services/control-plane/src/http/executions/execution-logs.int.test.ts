import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// First: `@hono/zod-openapi` must extend zod before any contract schema is built (the app modules
// below build some when they load).
import { createApp } from '../create-app.js';
import { createAuthenticator } from '../auth.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';
import type { Execution } from '@meridian/contracts/api/execution';
import type { ExecutionLogPage } from '@meridian/contracts/api/execution-log';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task } from '@meridian/contracts/api/task';
import { createTestAppDeps, dispatchedExecution } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';

import { storeLogChunks, type LogChunkMessage } from '../../logs/store/store-log-chunks.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

/** An execution of an organisation of its own, with `lineCount` lines of 100 bytes stored. */
async function executionWithLog(lineCount: number, maxBytes = 65_536) {
  const { orgId, nodeId, taskId, executionId } = await dispatchedExecution(deps);
  for (let start = 1; start <= lineCount; start += 100) {
    const lines = Array.from({ length: Math.min(100, lineCount - start + 1) }, (_, i) => ({
      seq: start + i,
      stream: 'stdout' as const,
      ts: new Date().toISOString(),
      text: `${start + i}`.padEnd(99, '.'),
    }));
    const chunk: LogChunkMessage = {
      messageId: randomUUID(),
      type: 'LogChunk',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      correlationId: 'corr-logs',
      nodeId,
      payload: { taskId, executionId, lines, droppedBytes: 0 },
    };
    await storeLogChunks(deps, [chunk], { maxBytes });
  }
  return { orgId, taskId, executionId };
}

async function get(path: string, options: { orgId?: string; permissions?: string[]; token?: false } = {}) {
  const headers: Record<string, string> = {};
  if (options.token !== false) {
    const token = await signTestToken({ orgId: options.orgId, permissions: options.permissions });
    headers['Authorization'] = `Bearer ${token}`;
  }
  return app.request(`/api/v1${path}`, { headers });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe('GET /api/v1/tasks/executions/{executionId}/logs', () => {
  it('returns the stored lines in order, from the start by default', async () => {
    const run = await executionWithLog(5);
    const page = await json<ExecutionLogPage>(
      await get(`/tasks/executions/${run.executionId}/logs`, { orgId: run.orgId }),
      200,
    );
    expect(page).toMatchObject({
      executionId: run.executionId,
      gaps: [],
      truncatedBytes: 0,
      nextAfter: null,
      ended: false,
      status: 'Dispatched',
    });
    expect(page.items.map((l) => [l.seq, l.stream, l.text.slice(0, 2)])).toEqual([
      [1, 'stdout', '1.'],
      [2, 'stdout', '2.'],
      [3, 'stdout', '3.'],
      [4, 'stdout', '4.'],
      [5, 'stdout', '5.'],
    ]);
  });

  it('pages with after and limit', async () => {
    const run = await executionWithLog(5);
    const path = `/tasks/executions/${run.executionId}/logs`;
    const first = await json<ExecutionLogPage>(await get(`${path}?limit=2`, { orgId: run.orgId }), 200);
    expect([first.items.map((l) => l.seq), first.nextAfter]).toEqual([[1, 2], 2]);
    const last = await json<ExecutionLogPage>(
      await get(`${path}?after=2&limit=3`, { orgId: run.orgId }),
      200,
    );
    expect([last.items.map((l) => l.seq), last.nextAfter]).toEqual([[3, 4, 5], null]);
  });

  it('shows head, tail and the dropped bytes of a log past the limit', async () => {
    const run = await executionWithLog(50, 2000);
    const page = await json<ExecutionLogPage>(
      await get(`/tasks/executions/${run.executionId}/logs`, { orgId: run.orgId }),
      200,
    );
    expect(page.items.map((l) => l.seq)).toEqual([...range(1, 10), ...range(41, 50)]);
    expect(page.truncatedBytes).toBe(3000);
    expect(page.gaps).toEqual([{ afterSeq: 10, beforeSeq: 41, bytes: 3000, reason: 'truncated' }]);
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=5001', 'query.limit'],
    ['after=-1', 'query.after'],
    ['after=abc', 'query.after'],
  ])('refuses %s with a 400 naming %s', async (query, field) => {
    const run = await executionWithLog(1);
    const problem = await json<Problem>(
      await get(`/tasks/executions/${run.executionId}/logs?${query}`, { orgId: run.orgId }),
      400,
    );
    expect(JSON.stringify(problem)).toContain(field);
  });

  it('is 404 for another organisation and for an unknown execution, 401 without a token, 403 without task:read', async () => {
    const run = await executionWithLog(1);
    const path = `/tasks/executions/${run.executionId}/logs`;
    expect((await get(path, { orgId: 'someone-else' })).status).toBe(404);
    expect((await get(`/tasks/executions/${randomUUID()}/logs`, { orgId: run.orgId })).status).toBe(404);
    expect((await get(path, { token: false })).status).toBe(401);
    expect((await get(path, { orgId: run.orgId, permissions: ['task:write'] })).status).toBe(403);
  });

  it('leaves the execution and task routes as they were, and is in the OpenAPI document', async () => {
    const run = await executionWithLog(1);
    const execution = await json<Execution>(
      await get(`/tasks/executions/${run.executionId}`, { orgId: run.orgId }),
      200,
    );
    expect(execution.executionId).toBe(run.executionId);
    expect((await json<Task>(await get(`/tasks/${run.taskId}`, { orgId: run.orgId }), 200)).id).toBe(
      run.taskId,
    );

    const document = await json<{ paths: Record<string, { get?: { operationId?: string } }> }>(
      await app.request('/openapi.json'),
      200,
    );
    expect(document.paths['/api/v1/tasks/executions/{executionId}/logs']?.get?.operationId).toBe(
      'getExecutionLog',
    );
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
