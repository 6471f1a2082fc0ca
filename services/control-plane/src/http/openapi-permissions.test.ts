import { describe, expect, it } from 'vitest';
import { createTestApp } from './test-app.js';

interface Operation {
  security?: unknown[];
  'x-required-permission'?: string;
  operationId?: string;
}

describe('the OpenAPI document', () => {
  it('names the permission of every operation behind a bearer token', async () => {
    const response = await createTestApp().request('/openapi.json');
    const document = (await response.json()) as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
    // Agents' routes authenticate with an enrollment token or the node's credentials, not a JWT.
    const guarded = operations.filter(({ operation }) =>
      (operation.security ?? []).some((scheme) => Object.hasOwn(scheme as object, 'bearerAuth')),
    );
    expect(guarded.length).toBeGreaterThan(20);
    const unnamed = guarded.filter(({ operation }) => !operation['x-required-permission']);
    expect(unnamed.map(({ route }) => route)).toEqual([]);
    const permissionOf = (route: string) =>
      guarded.find((entry) => entry.route === route)?.operation['x-required-permission'];
    expect(permissionOf('POST /api/v1/tasks/{id}/trigger')).toBe('task:trigger');
    expect(permissionOf('PUT /api/v1/tasks/{id}/reschedule')).toBe('task:reschedule');
    expect(permissionOf('GET /api/v1/tasks/{id}/events')).toBe('task:read-events');
    expect(permissionOf('GET /api/v1/events')).toBe('task:read-events');
    expect(permissionOf('POST /api/v1/tasks/bulk/trigger')).toBe('task:trigger');
    expect(permissionOf('GET /api/v1/nodes/{id}/servers')).toBe('node:read');
  });
});
