import { describe, expect, it } from 'vitest';
import { createTestApp } from '../test-app.js';
import { signTestToken } from '../test-tokens.js';

const app = createTestApp();
const validBody = { type: 'shell', name: 'Backup', targetType: 'server', targetId: 'srv-1' };

async function postTask(body: unknown) {
  return app.request('/api/v1/tasks', {
    method: 'POST',
    headers: { Authorization: `Bearer ${await signTestToken({})}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('retryPolicy of a new task', () => {
  it.each([
    ['an unknown kind', { kind: 'linear', baseSeconds: 1 }],
    ['exponential with max below base', { kind: 'exponential', baseSeconds: 60, maxSeconds: 10 }],
    ['exponential without a cap', { kind: 'exponential', baseSeconds: 5 }],
    ['exponential with a fraction', { kind: 'exponential', baseSeconds: 0.5, maxSeconds: 10 }],
    ['fixed with no steps', { kind: 'fixed', backoffSeconds: [] }],
    ['fixed with a negative step', { kind: 'fixed', backoffSeconds: [5, -1] }],
    ['fixed with a step over a day', { kind: 'fixed', backoffSeconds: [86_401] }],
    ['an unknown field', { kind: 'fixed', backoffSeconds: [5], jitter: 0 }],
  ])('refuses %s with 400 naming the field', async (_name, retryPolicy) => {
    const response = await postTask({ ...validBody, retryPolicy });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).join(' ')).toContain('retryPolicy');
  });

  it('documents both kinds in the OpenAPI document', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { oneOf?: unknown[] }> }> };
    };
    const property = document.components.schemas['CreateTaskBody']!.properties['retryPolicy'];
    expect(property?.oneOf).toHaveLength(2);
    expect(document.components.schemas['Task']!.properties['retryPolicy']).toBeDefined();
  });
});
