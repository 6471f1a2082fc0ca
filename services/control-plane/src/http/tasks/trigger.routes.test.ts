import { describe, expect, it } from 'vitest';
import { createTestApp } from '../test-app.js';
import { ALL_PERMISSIONS, signTestToken } from '../test-tokens.js';

const app = createTestApp();
const TASK_ID = '3f1c1d4e-9c3b-4a57-8a55-5b7f0c2b8e11';

async function post(
  route: 'trigger' | 'execute',
  body: unknown,
  options: { permissions?: string[]; headers?: Record<string, string>; taskId?: string } = {},
) {
  const token = await signTestToken({ permissions: options.permissions });
  return app.request(`/api/v1/tasks/${options.taskId ?? TASK_ID}/${route}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
  });
}

// The requests below are refused before any use of the database (the test app has none).
describe.each(['trigger', 'execute'] as const)('POST /api/v1/tasks/{id}/%s', (route) => {
  it('answers 403 naming task:trigger to a caller without it', async () => {
    const response = await post(
      route,
      {},
      { permissions: ALL_PERMISSIONS.filter((p) => p !== 'task:trigger') },
    );
    expect(response.status).toBe(403);
    expect(((await response.json()) as { detail: string }).detail).toContain('task:trigger');
  });

  it.each([
    [{ queue: true, priority: 'High' }, 'body.priority'],
    [{ context: 'x' }, 'body.context'],
    [{ triggerReason: 'r'.repeat(201) }, 'body.triggerReason'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const response = await post(route, body);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((error) => error.field)).toEqual([field]);
  });

  it.each([
    [{ 'X-Idempotency-Key': 'has space' }, 'header.X-Idempotency-Key'],
    [{ 'Idempotency-Key': 'a', 'X-Idempotency-Key': 'b' }, 'header.X-Idempotency-Key'],
  ])('answers 400 for the idempotency headers %j', async (headers, field) => {
    const response = await post(route, {}, { headers });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((error) => error.field)).toEqual([field]);
  });

  it('answers 400 naming the id for a task id that is not a UUID', async () => {
    const response = await post(route, {}, { taskId: 'not-a-uuid' });
    expect(response.status).toBe(400);
  });
});

describe('the OpenAPI document', () => {
  it('describes both routes: 202 with TriggerResponse, the permission, the key headers', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { description: string; parameters: { name: string }[]; responses: Record<string, unknown> }
        >
      >;
      components: { schemas: Record<string, unknown> };
    };
    for (const path of ['/api/v1/tasks/{id}/trigger', '/api/v1/tasks/{id}/execute']) {
      const operation = document.paths[path]?.['post'];
      expect(operation?.description).toContain('`task:trigger`');
      expect(Object.keys(operation?.responses ?? {})).toEqual(
        expect.arrayContaining(['202', '400', '403', '404', '409', '422']),
      );
      expect(operation?.parameters.map((p) => p.name)).toEqual(
        expect.arrayContaining(['id', 'idempotency-key', 'x-idempotency-key']),
      );
    }
    expect(document.components.schemas).toHaveProperty('TriggerTaskBody');
    expect(document.components.schemas).toHaveProperty('TriggerResponse');
  });
});
