import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import { createTestApp } from '../test-app.js';
import { signTestToken } from '../test-tokens.js';

// No database: every answer below is given before a query would run.
const app = createTestApp();
const TASK_ID = '3f1c1d4e-9c3b-4a57-8a55-5b7f0c2b8e11';
const ROUTES = [`/api/v1/tasks/${TASK_ID}/events`, '/api/v1/events'];

async function get(path: string, permissions?: string[]) {
  const token = await signTestToken({ permissions });
  return app.request(path, { headers: { Authorization: `Bearer ${token}` } });
}

describe('event routes', () => {
  it('state their permission and their filters in the OpenAPI document', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { get?: { description?: string; parameters?: { name: string; in: string }[] } }>;
    };
    for (const path of ['/api/v1/tasks/{id}/events', '/api/v1/events']) {
      const operation = document.paths[path]?.get;
      expect(operation?.description).toMatch(/^Needs `task:read-events`\./);
      const query = operation?.parameters?.filter((p) => p.in === 'query').map((p) => p.name);
      expect(query).toEqual(['types', 'from', 'to', 'actor', 'limit', 'cursor']);
    }
  });

  it.each(ROUTES)('answer 403 naming task:read-events to a token with task:read only (%s)', async (path) => {
    const response = await get(path, ['task:read', 'task:write', 'node:read']);
    expect(response.status).toBe(403);
    expect(((await response.json()) as Problem).detail).toContain('task:read-events');
  });

  it.each(
    ROUTES.flatMap((path) => [
      `${path}?limit=0`,
      `${path}?to=2025-01-31T25:00:00Z`,
      `${path}?cursor=MS4xLjIuYWJj`,
    ]),
  )('answer 400 for %s without reading anything', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    const field = new URL(path, 'http://x').searchParams.keys().next().value;
    expect(((await response.json()) as Problem).errors?.map((e) => e.field)).toEqual([`query.${field}`]);
  });
});
