import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task, TaskList } from '@meridian/contracts/api/task';
import { encodeJson } from '@meridian/contracts/json-depth';
import { createTestAppDeps } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { createAuthenticator } from './auth.js';
import { createApp } from './create-app.js';
import { signTestToken, TEST_SECRET } from './test-tokens.js';

/*
 * What PostgreSQL cannot store never reaches it from an HTTP request: NUL bytes, lone surrogates,
 * integers past their column and nesting past a depth are 400 problems naming the field, never a
 * 500 from the database.
 */

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

const freshOrg = () => `org-${randomUUID().slice(0, 8)}`;

async function call(method: string, path: string, orgId: string, body?: string) {
  const token = await signTestToken({ orgId });
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return app.request(`/api/v1${path}`, { method, headers, body });
}

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  expect(response.status, text).toBe(400);
  return JSON.parse(text) as Problem;
}

const taskBody = (overrides: Record<string, unknown> = {}) => ({
  type: 'Echo',
  name: 'echo',
  targetType: 'Service',
  targetId: 'target-1',
  ...overrides,
});
const nested = (levels: number): unknown => (levels === 0 ? 1 : { a: nested(levels - 1) });

describe('POST /api/v1/tasks refuses what the database cannot store', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a NUL in the name', { name: 'a\u0000b' }, 'body.name'],
    ['a NUL in the type', { type: 'Echo\u0000' }, 'body.type'],
    ['a NUL in the description', { description: '\u0000' }, 'body.description'],
    ['a NUL in the target id', { targetId: 't\u0000' }, 'body.targetId'],
    ['a lone surrogate in the target type', { targetType: 'Node\ud800' }, 'body.targetType'],
    ['a NUL in a payload value', { payload: { command: ['echo', 'a\u0000'] } }, 'body.payload.command.1'],
    ['a NUL in a metadata key', { metadata: { 'k\u0000': 1 } }, 'body.metadata.k\u0000'],
    ['a lone surrogate in the payload', { payload: { s: '\udc00' } }, 'body.payload.s'],
    ['a payload nested 20 deep', { payload: nested(20) }, 'body.payload.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a'],
    ['a timeoutSeconds past int4', { timeoutSeconds: 2 ** 31 }, 'body.timeoutSeconds'],
    ['a maxRetries past int4', { maxRetries: 2 ** 53 }, 'body.maxRetries'],
  ])('%s is a 400 naming %s, and nothing is stored', async (_, overrides, field) => {
    const orgId = freshOrg();
    const problem = await problemOf(await call('POST', '/tasks', orgId, encodeJson(taskBody(overrides))));
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    const list = (await (await call('GET', '/tasks', orgId)).json()) as TaskList;
    expect(list.total).toBe(0);
  });

  it('answers a body nested 10,000 deep with a 400, before parsing it', async () => {
    const body = `{"type":"Echo","name":"n","targetType":"Service","targetId":"t","payload":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const problem = await problemOf(await call('POST', '/tasks', freshOrg(), body));
    expect(problem).toMatchObject({
      type: '/problems/malformed-request',
      detail: 'the JSON body is nested deeper than 32 levels',
    });
  });

  it('still stores a payload at the depth limit, and brackets inside strings do not count', async () => {
    const orgId = freshOrg();
    const payload = { deep: nested(15), text: '['.repeat(100) };
    const response = await call('POST', '/tasks', orgId, encodeJson(taskBody({ payload })));
    expect(response.status, await response.clone().text()).toBe(201);
    expect(((await response.json()) as Task).payload).toEqual(payload);
  });
});

describe('queries and parameters', () => {
  it.each<[string, string, string]>([
    ['GET', '/tasks?type=%00', 'query.type'],
    ['GET', '/tasks?targetId=a%00', 'query.targetId'],
    ['GET', '/tasks?nodeId=%00', 'query.nodeId'],
    ['GET', '/tasks?page=99999999999', 'query.page'],
    ['GET', '/nodes/a%00b', 'param.id'],
    ['GET', `/tasks/executions/${randomUUID()}/logs?after=2147483648`, 'query.after'],
    ['DELETE', `/tasks/${randomUUID()}?reason=%00`, 'query.reason'],
  ])('%s %s is a 400 naming %s', async (method, path, field) => {
    const problem = await problemOf(await call(method, path, freshOrg()));
    expect(problem.errors?.map((error) => error.field)).toContain(field);
  });

  it('refuses a NUL in a cancel reason in the body', async () => {
    const problem = await problemOf(
      await call('DELETE', `/tasks/${randomUUID()}`, freshOrg(), JSON.stringify({ reason: 'a\u0000' })),
    );
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.reason']);
  });
});
