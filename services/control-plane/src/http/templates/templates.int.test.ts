/**
 * Templates over HTTP on a real database: create and check, list and filters, global vs org
 * visibility and `template:admin`, tenant isolation of every route and the OpenAPI document.
 * Execution: templates-execute.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Template, TemplateList } from '@meridian/contracts/api/template';
import { app, call, freshOrg, json, useRunsFixture } from '../tasks/runs.fixture.js';
import { ADMIN, createTemplate, fieldsOf, problem, rollingRestart } from './templates.fixture.js';

useRunsFixture();

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
