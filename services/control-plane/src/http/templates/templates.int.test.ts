/**
 * Templates over HTTP on a real database: create and check, list and filters, global vs org
 * visibility and `template:admin`, execute → a batch with merged payloads, each kind of bad
 * override (400 naming it), inactive (409), and tenant isolation of every route.
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '@meridian/contracts/api/batch';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Template, TemplateList } from '@meridian/contracts/api/template';
import { ALL_PERMISSIONS } from '../test-tokens.js';
import { app, call, freshOrg, json, taskRow, useRunsFixture } from '../tasks/runs.fixture.js';
import { taskOf } from '../batches/batches.fixture.js';

useRunsFixture();

const ADMIN = [...ALL_PERMISSIONS, 'template:admin'];

/** Seed 004's rolling restart: backup, then stop, then start (by `order`), with a schema on backup. */
const rollingRestart = (extra: Record<string, unknown> = {}) => ({
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

async function createTemplate(orgId: string, body: unknown, permissions?: string[]): Promise<Template> {
  return json<Template>(await call(orgId, 'POST', '/tasks/templates', { body, permissions }), 201);
}

const execute = (orgId: string, id: string, body: Record<string, unknown>) =>
  call(orgId, 'POST', `/tasks/templates/${id}/execute`, { body: { targetId: 'game-1', ...body } });

async function problem(response: Response, status = 400): Promise<Problem> {
  return json<Problem>(response, status);
}

const fieldsOf = (p: Problem) => (p.errors ?? []).map((error) => error.field);

describe('POST /tasks/templates', () => {
  it('stores the template and answers it with defaults filled in', async () => {
    const { orgId } = await freshOrg();
    const response = await call(orgId, 'POST', '/tasks/templates', { body: rollingRestart() });
    const template = await json<Template>(response, 201);
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/templates/${template.id}`);
    expect(template).toMatchObject({
      orgId,
      global: false,
      name: 'rolling-restart',
      isActive: true,
      failurePolicy: 'cancel-dependents',
      requiredFields: ['backup.payload.destination'],
    });
    expect(template.tasks.map((task) => task.name)).toEqual(['backup', 'stop', 'start']);
    const again = await json<Template>(await call(orgId, 'GET', `/tasks/templates/${template.id}`), 200);
    expect(again).toEqual(template);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a bad JSON Schema',
      { tasks: [{ name: 'a', type: 'Echo', payloadSchema: { type: 'objekt' } }] },
      'body.tasks[0].payloadSchema',
    ],
    [
      'an unknown schema keyword',
      { tasks: [{ name: 'a', type: 'Echo', payloadSchema: { propertees: {} } }] },
      'body.tasks[0].payloadSchema',
    ],
    [
      'a duplicate task name',
      {
        tasks: [
          { name: 'a', type: 'Echo' },
          { name: 'a', type: 'Echo' },
        ],
      },
      'body.tasks[1].name',
    ],
    [
      'an unknown dependency',
      { tasks: [{ name: 'a', type: 'Echo', dependsOn: ['b'] }] },
      'body.tasks[0].dependsOn[0]',
    ],
    [
      'a cycle',
      {
        tasks: [
          { name: 'a', type: 'Echo', dependsOn: ['b'] },
          { name: 'b', type: 'Echo', dependsOn: ['a'] },
        ],
      },
      'body.tasks[0].dependsOn[0]',
    ],
    [
      'a cycle through order',
      {
        tasks: [
          { name: 'a', type: 'Echo', dependsOn: ['b'] },
          { name: 'b', type: 'Echo', order: 2 },
          { name: 'c', type: 'Echo', order: 1, dependsOn: ['a'] },
        ],
      },
      'body.tasks[0].dependsOn[0]',
    ],
    [
      'a required field naming no task',
      { requiredFields: ['nope.payload.x'], tasks: [{ name: 'a', type: 'Echo' }] },
      'body.requiredFields[0]',
    ],
    [
      'an optional field naming no field',
      { optionalFields: ['a.type'], tasks: [{ name: 'a', type: 'Echo' }] },
      'body.optionalFields[0]',
    ],
  ])('refuses %s with a 400 naming it', async (_, body, field) => {
    const { orgId } = await freshOrg();
    const refused = await problem(
      await call(orgId, 'POST', '/tasks/templates', { body: { name: 't', ...body } }),
    );
    expect(fieldsOf(refused)).toContain(field);
  });

  it('creates a global template only with template:admin', async () => {
    const { orgId } = await freshOrg();
    const denied = await call(orgId, 'POST', '/tasks/templates', { body: rollingRestart({ global: true }) });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('template:admin');
    const global = await createTemplate(orgId, rollingRestart({ global: true }), ADMIN);
    expect(global).toMatchObject({ orgId: null, global: true });
  });
});

describe('GET /tasks/templates', () => {
  it('lists the organisation’s and the global templates, filtered by category, tag and isActive', async () => {
    const { orgId } = await freshOrg();
    const other = await freshOrg();
    const mine = await createTemplate(orgId, rollingRestart());
    const inactive = await createTemplate(
      orgId,
      rollingRestart({ name: 'nightly', category: 'backup', tags: ['nightly'], isActive: false }),
    );
    const global = await createTemplate(other.orgId, rollingRestart({ name: 'global', global: true }), ADMIN);
    const foreign = await createTemplate(other.orgId, rollingRestart({ name: 'theirs' }));

    const ids = async (query = '') =>
      (await json<TemplateList>(await call(orgId, 'GET', `/tasks/templates${query}`), 200)).items.map(
        (item) => item.id,
      );
    const all = await ids('?limit=100');
    expect(all).toEqual(expect.arrayContaining([mine.id, inactive.id, global.id]));
    expect(all).not.toContain(foreign.id);
    expect(await ids('?category=backup')).toEqual([inactive.id]);
    expect(await ids('?tag=nightly')).toEqual([inactive.id]);
    expect(await ids('?isActive=false')).toEqual([inactive.id]);
    const page = await json<TemplateList>(
      await call(orgId, 'GET', '/tasks/templates?tag=restart&limit=1'),
      200,
    );
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(2);
  });
});

describe('PATCH and DELETE /tasks/templates/{id}', () => {
  it('changes a template, checked again as a whole, and deletes it', async () => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, rollingRestart());
    const changed = await json<Template>(
      await call(orgId, 'PATCH', `/tasks/templates/${template.id}`, {
        body: { isActive: false, description: 'weekly', tags: ['weekly'] },
      }),
      200,
    );
    expect(changed).toMatchObject({ isActive: false, description: 'weekly', tags: ['weekly'] });
    const refused = await problem(
      await call(orgId, 'PATCH', `/tasks/templates/${template.id}`, {
        body: { requiredFields: ['ghost.payload.x'] },
      }),
    );
    expect(fieldsOf(refused)).toEqual(['body.requiredFields[0]']);
    expect((await call(orgId, 'DELETE', `/tasks/templates/${template.id}`)).status).toBe(204);
    expect((await call(orgId, 'GET', `/tasks/templates/${template.id}`)).status).toBe(404);
  });

  it('changes or deletes a global template only with template:admin', async () => {
    const { orgId } = await freshOrg();
    const global = await createTemplate(orgId, rollingRestart({ global: true }), ADMIN);
    for (const [method, body] of [
      ['PATCH', { isActive: false }],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(orgId, method, `/tasks/templates/${global.id}`, { body });
      expect(response.status, method).toBe(403);
    }
    const changed = await json<Template>(
      await call(orgId, 'PATCH', `/tasks/templates/${global.id}`, {
        body: { name: 'renamed' },
        permissions: ADMIN,
      }),
      200,
    );
    expect(changed).toMatchObject({ name: 'renamed', global: true });
    const deleted = await call(orgId, 'DELETE', `/tasks/templates/${global.id}`, { permissions: ADMIN });
    expect(deleted.status).toBe(204);
  });
});

describe('POST /tasks/templates/{id}/execute', () => {
  it('creates a batch with the overrides deep-merged into the defaults, ordered by `order`', async () => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, rollingRestart());
    const response = await execute(orgId, template.id, {
      targetType: 'Service',
      overrides: {
        'backup.payload.destination': 's3://worlds',
        'backup.payload.options': { level: 9 },
        'backup.timeoutSeconds': 120,
        'stop.payload.reason': 'update',
      },
    });
    const batch = await json<Batch>(response, 201);
    expect(response.headers.get('Location')).toBe(`/api/v1/tasks/batches/${batch.id}`);
    expect(batch).toMatchObject({ name: 'rolling-restart', status: 'Running' });
    expect(batch.tasks.map((t) => [t.name, t.role, t.status, t.dependsOn])).toEqual([
      ['backup', 'step', 'Pending', []],
      ['stop', 'step', 'Created', ['backup']],
      ['start', 'step', 'Created', ['backup', 'stop']],
      ['stop/onFailure[0]', 'compensation', 'Created', []],
    ]);
    const backup = await taskRow(taskOf(batch, 'backup').taskId);
    expect(backup.payload).toEqual({
      message: 'backup',
      retentionDays: 7,
      destination: 's3://worlds',
      options: { compress: true, level: 9 },
    });
    expect(backup).toMatchObject({ timeoutSeconds: 120, targetType: 'Service', targetId: 'game-1' });
    expect(backup.metadata).toEqual({ templateId: template.id, templateName: 'rolling-restart' });
    expect((await taskRow(taskOf(batch, 'stop').taskId)).payload).toEqual({
      message: 'stop',
      reason: 'update',
    });
    expect((await taskRow(taskOf(batch, 'stop/onFailure[0]').taskId)).targetType).toBe('Service');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a missing required field', {}, 'body.overrides.backup.payload.destination', 'is required'],
    [
      'a path naming no task',
      { 'backup.payload.destination': 'x', 'restore.payload.x': 1 },
      'body.overrides.restore.payload.x',
      'does not start with the name of a task',
    ],
    [
      'a path naming no field',
      { 'backup.payload.destination': 'x', 'backup.payload.retention': 14 },
      'body.overrides.backup.payload.retention',
      'names no field of the template',
    ],
    [
      'a task field that cannot be overridden',
      { 'backup.payload.destination': 'x', 'backup.type': 'Command' },
      'body.overrides.backup.type',
      'names no field',
    ],
    [
      'a value breaking the payload schema',
      { 'backup.payload.destination': 'x', 'backup.payload.retentionDays': 90 },
      'body.overrides.backup.payload.retentionDays',
      'must be <= 30',
    ],
    [
      'a value of the wrong type for the schema',
      { 'backup.payload.destination': 42 },
      'body.overrides.backup.payload.destination',
      'must be string',
    ],
    [
      'a task field out of range',
      { 'backup.payload.destination': 'x', 'stop.timeoutSeconds': 0 },
      'body.overrides.stop.timeoutSeconds',
      '',
    ],
  ])('refuses %s with a 400 naming it', async (_, overrides, field, message) => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, rollingRestart());
    const refused = await problem(await execute(orgId, template.id, { targetType: 'Service', overrides }));
    expect(refused.errors).toEqual([{ field, message: expect.stringContaining(message) as string }]);
    const batches = await json<{ total: number }>(await call(orgId, 'GET', '/tasks/batches'), 200);
    expect(batches.total).toBe(0);
  });

  it('names the override to give when the task type refuses the merged payload', async () => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, {
      name: 'command',
      tasks: [{ name: 'run', type: 'Command', payload: { shell: true } }],
    });
    const refused = await problem(await execute(orgId, template.id, { targetType: 'Service' }));
    expect(fieldsOf(refused)).toEqual(['body.overrides.run.payload.command']);
  });

  it('refuses an inactive template with 409', async () => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, rollingRestart({ isActive: false }));
    const refused = await problem(
      await execute(orgId, template.id, { overrides: { 'backup.payload.destination': 'x' } }),
      409,
    );
    expect(refused.detail).toContain('not active');
  });

  it('executes a global template into a batch of the caller’s organisation', async () => {
    const owner = await freshOrg();
    const caller = await freshOrg();
    const global = await createTemplate(owner.orgId, rollingRestart({ global: true }), ADMIN);
    const batch = await json<Batch>(
      await execute(caller.orgId, global.id, {
        targetType: 'Service',
        overrides: { 'backup.payload.destination': 'x' },
      }),
      201,
    );
    expect((await taskRow(taskOf(batch, 'backup').taskId)).orgId).toBe(caller.orgId);
    expect((await call(owner.orgId, 'GET', `/tasks/batches/${batch.id}`)).status).toBe(404);
  });
});

describe('tenant isolation', () => {
  it('answers 404 for another organisation’s template on every route', async () => {
    const owner = await freshOrg();
    const stranger = await freshOrg();
    const template = await createTemplate(owner.orgId, rollingRestart());
    for (const [method, path, body] of [
      ['GET', `/tasks/templates/${template.id}`, undefined],
      ['PATCH', `/tasks/templates/${template.id}`, { isActive: false }],
      ['DELETE', `/tasks/templates/${template.id}`, undefined],
      [
        'POST',
        `/tasks/templates/${template.id}/execute`,
        { targetId: 'game-1', overrides: { 'backup.payload.destination': 'x' } },
      ],
    ] as const) {
      const response = await call(stranger.orgId, method, path, { body, permissions: ADMIN });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.text()).not.toContain(owner.orgId);
    }
    const list = await json<TemplateList>(await call(stranger.orgId, 'GET', '/tasks/templates'), 200);
    expect(list.items.map((item) => item.id)).not.toContain(template.id);
    expect((await call(owner.orgId, 'GET', `/tasks/templates/${template.id}`)).status).toBe(200);
  });

  it('needs task:read to read and task:write to create and execute', async () => {
    const { orgId } = await freshOrg();
    const template = await createTemplate(orgId, rollingRestart());
    const reader = ['task:read'];
    expect(
      (await call(orgId, 'POST', '/tasks/templates', { body: rollingRestart(), permissions: reader })).status,
    ).toBe(403);
    const run = await call(orgId, 'POST', `/tasks/templates/${template.id}/execute`, {
      body: { targetId: 'game-1' },
      permissions: reader,
    });
    expect(run.status).toBe(403);
    expect((await call(orgId, 'GET', '/tasks/templates', { permissions: ['task:write'] })).status).toBe(403);
  });
});

describe('the OpenAPI document', () => {
  it('describes every template route with its permission', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { 'x-required-permission'?: string }>>;
    };
    const permission = (path: string, method: string) =>
      document.paths[`/api/v1/tasks/templates${path}`]?.[method]?.['x-required-permission'];
    expect([
      permission('', 'post'),
      permission('', 'get'),
      permission('/{id}', 'get'),
      permission('/{id}', 'patch'),
      permission('/{id}', 'delete'),
      permission('/{id}/execute', 'post'),
    ]).toEqual(['task:write', 'task:read', 'task:read', 'task:write', 'task:write', 'task:write']);
  });
});
