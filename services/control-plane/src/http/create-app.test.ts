import { describe, expect, it } from 'vitest';
import type { HealthReport, NotReadyProblem } from './health/health.routes.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { createTestApp } from './test-app.js';
import { signTestToken } from './test-tokens.js';

const TASK_ID = '3f1c1d4e-9c3b-4a57-8a55-5b7f0c2b8e11';
const app = createTestApp();

async function authorized(permissions?: string[]) {
  return { Authorization: `Bearer ${await signTestToken({ permissions })}` };
}

const validBody = { type: 'shell', name: 'Backup', targetType: 'server', targetId: 'srv-1' };

async function postTask(body: unknown) {
  return app.request('/api/v1/tasks', {
    method: 'POST',
    headers: { ...(await authorized()), 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('authentication and permissions', () => {
  it('answers 401 problem with WWW-Authenticate without a token', async () => {
    const response = await app.request('/api/v1/tasks');
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toMatchObject({ status: 401, instance: '/api/v1/tasks' });
  });

  it('answers 401 for a token signed with another secret', async () => {
    const token = await signTestToken({}, 'not-the-server-secret-123');
    const response = await app.request('/api/v1/nodes', { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
  });

  it.each([
    ['GET', `/api/v1/tasks/${TASK_ID}`, 'task:read'],
    ['GET', `/api/v1/tasks/executions/${TASK_ID}`, 'task:read'],
    ['DELETE', `/api/v1/tasks/${TASK_ID}`, 'task:write'],
    ['POST', `/api/v1/tasks/${TASK_ID}/retry`, 'task:write'],
    ['GET', '/api/v1/nodes', 'node:read'],
  ])('answers 403 naming the permission for %s %s', async (method, path, permission) => {
    const others = ['task:read', 'task:write', 'node:read'].filter((p) => p !== permission);
    const response = await app.request(path, { method, headers: await authorized(others) });
    expect(response.status).toBe(403);
    const problem = (await response.json()) as { status: number; detail: string };
    expect(problem.status).toBe(403);
    expect(problem.detail).toContain(permission);
  });
});

describe('validation', () => {
  it.each([
    [{ ...validBody, priority: 'Urgent' }, 'body.priority'],
    [{ name: 'Backup', targetType: 'server', targetId: 'srv-1' }, 'body.type'],
    [{ ...validBody, owner: 'me' }, 'body.owner'],
    [{ ...validBody, timeoutSeconds: 0 }, 'body.timeoutSeconds'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const response = await postTask(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((error) => error.field)).toEqual([field]);
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await postTask('{"type": ');
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { title: string; detail: string };
    expect(problem.title).toBe('Malformed request');
    expect(problem.detail).toMatch(/JSON/);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const response = await app.request('/api/v1/tasks', {
      method: 'POST',
      headers: { ...(await authorized()), 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    expect(response.status).toBe(415);
  });

  it('answers 400 for limit=500 and a non-UUID id', async () => {
    const list = await app.request('/api/v1/tasks?limit=500', { headers: await authorized() });
    expect(list.status).toBe(400);
    expect(await list.json()).toMatchObject({ errors: [{ field: 'query.limit' }] });
    const one = await app.request('/api/v1/tasks/not-a-uuid', { headers: await authorized() });
    expect(one.status).toBe(400);
    expect(await one.json()).toMatchObject({ errors: [{ field: 'param.id' }] });
  });
});

describe('errors and correlation', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const response = await app.request('/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('hides internals behind a generic 500', async () => {
    const response = await app.request(`/api/v1/tasks/${TASK_ID}`, {
      headers: { ...(await authorized()), 'X-Correlation-Id': 'corr-500' },
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/10\.0\.0\.5|database|refused/);
    expect(JSON.parse(text)).toMatchObject({ status: 500, correlationId: 'corr-500' });
  });

  it('echoes a valid X-Correlation-Id, also on errors', async () => {
    const ok = await app.request('/livez', { headers: { 'X-Correlation-Id': 'abc-123:x.y_z' } });
    expect(ok.headers.get('X-Correlation-Id')).toBe('abc-123:x.y_z');
    const denied = await app.request('/api/v1/tasks', { headers: { 'X-Correlation-Id': 'req-401' } });
    expect(denied.headers.get('X-Correlation-Id')).toBe('req-401');
    expect(await denied.json()).toMatchObject({ correlationId: 'req-401' });
  });

  it('replaces an unsafe X-Correlation-Id with a UUID', async () => {
    const response = await app.request('/livez', { headers: { 'X-Correlation-Id': 'bad id\u0007' } });
    expect(response.headers.get('X-Correlation-Id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });
});

describe('health', () => {
  it('/livez answers 200', async () => {
    const response = await app.request('/livez');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/healthz answers 503 when a check throws, with every check named', async () => {
    const failing = createTestApp({
      serviceName: 'cp-test',
      readiness: { postgres: () => Promise.resolve(), rabbitmq: () => Promise.reject(new Error('down')) },
    });
    const response = await failing.request('/healthz');
    expect(response.status).toBe(503);
    const report = (await response.json()) as HealthReport;
    expect(report).toMatchObject({ service: 'cp-test', status: 'unhealthy' });
    expect(Date.parse(report.timestamp)).not.toBeNaN();
    expect(report.checks['postgres']?.status).toBe('Healthy');
    expect(report.checks['rabbitmq']?.status).toBe('Unhealthy');
    expect(report.checks['rabbitmq']?.duration_ms).toBeTypeOf('number');
  });

  it.each([
    [['rabbitmq'], 'not ready: rabbitmq is down'],
    [['rabbitmq', 'consumer:agent-events'], 'not ready: rabbitmq, consumer:agent-events are down'],
    [['consumer:logs'], 'not ready: consumer:logs is down'],
  ])('/readyz answers 503 with a problem naming what is down (%j)', async (down, detail) => {
    const names = ['postgres', 'rabbitmq', 'consumer:agent-events', 'consumer:logs'];
    const failing = createTestApp({
      serviceName: 'cp-test',
      readiness: Object.fromEntries(
        names.map((name) => [
          name,
          () => (down.includes(name) ? Promise.reject(new Error('secret detail')) : Promise.resolve()),
        ]),
      ),
    });
    const response = await failing.request('/readyz');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as NotReadyProblem;
    expect(problem).toMatchObject({
      type: '/problems/not-ready',
      title: 'Not ready',
      status: 503,
      detail,
      service: 'cp-test',
    });
    expect(Date.parse(problem.timestamp)).not.toBeNaN();
    for (const name of names) {
      expect(problem.checks[name]?.status).toBe(down.includes(name) ? 'Unhealthy' : 'Healthy');
    }
    expect(JSON.stringify(problem)).not.toContain('secret detail');
  });

  it('/readyz answers 200 when ready and 503 once shutting down', async () => {
    let shuttingDown = false;
    const ready = createTestApp({
      readiness: { postgres: () => Promise.resolve() },
      isShuttingDown: () => shuttingDown,
    });
    expect((await ready.request('/readyz')).status).toBe(200);
    shuttingDown = true;
    const response = await ready.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 503, detail: 'shutting down' });
    expect((await ready.request('/healthz')).status).toBe(200);
  });
});

describe('documentation', () => {
  it('serves an OpenAPI 3.1 document with bearer security on /api/v1 operations', async () => {
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.info.title).toBe('Meridian Tasks API');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tasks',
        '/api/v1/tasks/{id}',
        '/api/v1/tasks/{id}/retry',
        '/api/v1/tasks/{id}/executions',
        '/api/v1/tasks/executions/{executionId}',
        '/api/v1/tasks/{id}/events',
        '/api/v1/nodes',
        '/api/v1/nodes/{id}',
        '/healthz',
        '/livez',
        '/readyz',
      ]),
    );
    expect(document.components.securitySchemes).toHaveProperty('bearerAuth');
    expect(document.paths['/api/v1/tasks']?.['post']?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/livez']?.['get']?.security).toBeUndefined();
    expect(document.components.schemas).toHaveProperty('Task');
    expect(document.components.schemas).toHaveProperty('Problem');
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await app.request('/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('/openapi.json');
  });
});
