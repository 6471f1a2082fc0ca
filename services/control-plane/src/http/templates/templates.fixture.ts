import type { Problem } from '@meridian/contracts/api/problem';
import type { Template } from '@meridian/contracts/api/template';
import { ALL_PERMISSIONS } from '../test-tokens.js';
import { call, json } from '../tasks/runs.fixture.js';

/** What the template integration tests share (they run on the runs fixture's app and database). */
export const ADMIN = [...ALL_PERMISSIONS, 'template:admin'];

/** Seed 004's rolling restart: backup, then stop, then start (by `order`), with a schema on backup. */
export const rollingRestart = (extra: Record<string, unknown> = {}) => ({
  name: 'rolling-restart',
  category: 'maintenance',
  tags: ['game-server', 'restart'],
  requiredFields: ['backup.payload.destination'],
  optionalFields: ['stop.payload.reason'],
  tasks: [
    {
      name: 'backup',
      type: 'Echo',
      order: 1,
      payload: { message: 'backup', retentionDays: 7, options: { compress: true, level: 3 } },
      payloadSchema: {
        type: 'object',
        required: ['destination'],
        properties: {
          destination: { type: 'string', minLength: 1 },
          retentionDays: { type: 'integer', minimum: 1, maximum: 30 },
        },
      },
      timeoutSeconds: 600,
    },
    {
      name: 'stop',
      type: 'Echo',
      order: 2,
      payload: { message: 'stop' },
      onFailure: [{ type: 'Echo', payload: { message: 'start again' } }],
    },
    { name: 'start', type: 'Echo', order: 3, payload: { message: 'start' } },
  ],
  ...extra,
});

export async function createTemplate(
  orgId: string,
  body: unknown,
  permissions?: string[],
): Promise<Template> {
  return json<Template>(await call(orgId, 'POST', '/tasks/templates', { body, permissions }), 201);
}

export const execute = (orgId: string, id: string, body: Record<string, unknown>) =>
  call(orgId, 'POST', `/tasks/templates/${id}/execute`, { body: { targetId: 'game-1', ...body } });

export async function problem(response: Response, status = 400): Promise<Problem> {
  return json<Problem>(response, status);
}

export const fieldsOf = (p: Problem) => (p.errors ?? []).map((error) => error.field);
