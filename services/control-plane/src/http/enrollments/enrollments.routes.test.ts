import { describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../problem.js';
import { createTestApp } from '../test-app.js';
import { signTestToken } from '../test-tokens.js';

/** Requests that must be refused before any database work (the test app has none). */
const app = createTestApp();
const ENROLLMENT_ID = '3f1c1d4e-9c3b-4a57-8a55-5b7f0c2b8e11';

async function request(
  method: string,
  path: string,
  options: { permissions?: string[]; body?: unknown } = {},
): Promise<Response> {
  const token = await signTestToken({ permissions: options.permissions ?? ['node:admin'] });
  return app.request(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
}

async function fieldsOf(response: Response): Promise<string[]> {
  expect(response.status).toBe(400);
  expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = (await response.json()) as { errors: { field: string }[] };
  return problem.errors.map((error) => error.field);
}

describe('enrollment routes', () => {
  it.each([
    ['POST', '/api/v1/nodes/enrollments'],
    ['GET', '/api/v1/nodes/enrollments'],
    ['GET', `/api/v1/nodes/enrollments/${ENROLLMENT_ID}`],
    ['DELETE', `/api/v1/nodes/enrollments/${ENROLLMENT_ID}`],
    ['DELETE', '/api/v1/nodes/node-1'],
    ['POST', '/api/v1/nodes/node-1/revoke'],
  ])('%s %s needs node:admin (node:read is not enough)', async (method, path) => {
    const body = method === 'GET' ? undefined : {};
    const response = await request(method, path, { permissions: ['node:read', 'task:write'], body });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { detail: string }).detail).toContain('node:admin');
  });

  it('answers 401 without a bearer token', async () => {
    const response = await app.request('/api/v1/nodes/enrollments', { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it.each([
    [{}, ['body.nodeId']],
    [{ nodeId: 'a', namePrefix: 'b' }, ['body.nodeId']],
    [{ nodeId: 'web.1' }, ['body.nodeId']],
    [{ nodeId: '-web' }, ['body.nodeId']],
    [{ nodeId: 'a'.repeat(101) }, ['body.nodeId']],
    [{ namePrefix: 'web.' }, ['body.namePrefix']],
    [{ namePrefix: 'a'.repeat(92) }, ['body.namePrefix']],
    [{ nodeId: 'web-1', maxUses: 2 }, ['body.maxUses']],
    [{ namePrefix: 'web', maxUses: 0 }, ['body.maxUses']],
    [{ namePrefix: 'web', maxUses: 1001 }, ['body.maxUses']],
    [{ namePrefix: 'web', expiresInSeconds: 59 }, ['body.expiresInSeconds']],
    [{ namePrefix: 'web', expiresInSeconds: 7 * 24 * 3600 + 1 }, ['body.expiresInSeconds']],
    [{ namePrefix: 'web', labels: { '': 'x' } }, ['body.labels.']],
    [{ namePrefix: 'web', labels: 'zone=eu' }, ['body.labels']],
    [{ namePrefix: 'web', orgId: 'other-org' }, ['body.orgId']],
  ])('refuses %o naming %o', async (body, fields) => {
    expect(await fieldsOf(await request('POST', '/api/v1/nodes/enrollments', { body }))).toEqual(
      expect.arrayContaining(fields),
    );
  });

  it.each([
    ['?limit=0', 'query.limit'],
    ['?limit=101', 'query.limit'],
    ['?cursor=not-a-cursor', 'query.cursor'],
    ['?cursor=a%2Bb', 'query.cursor'],
  ])('refuses the list query %s', async (query, field) => {
    expect(await fieldsOf(await request('GET', `/api/v1/nodes/enrollments${query}`))).toContain(field);
  });

  it.each(['GET', 'DELETE'])('refuses %s of an enrollment id that is not a UUID', async (method) => {
    expect(await fieldsOf(await request(method, '/api/v1/nodes/enrollments/nope'))).toEqual(['param.id']);
  });

  it('refuses a node id that cannot be stored', async () => {
    expect(await fieldsOf(await request('POST', `/api/v1/nodes/${'x'.repeat(201)}/revoke`))).toEqual([
      'param.id',
    ]);
  });
});

describe('OpenAPI document', () => {
  it('describes the enrollment, agent and revocation operations', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const operations = Object.values(document.paths).flatMap((path) => Object.values(path));
    expect(operations.map((operation) => operation.operationId)).toEqual(
      expect.arrayContaining([
        'createEnrollment',
        'listEnrollments',
        'getEnrollment',
        'revokeEnrollment',
        'deleteNode',
        'revokeNode',
        'enrollAgent',
        'rotateAgentCredentials',
        'listSigningKeys',
      ]),
    );
    expect(document.paths['/api/v1/agent/enroll']?.['post']?.security).toEqual([]);
    expect(document.components.securitySchemes).toHaveProperty('agentBasicAuth');
  });
});
