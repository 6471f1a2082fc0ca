/**
 * Executing templates over HTTP on a real database: a batch with the overrides deep-merged into
 * the defaults, each kind of bad override (400 naming it), inactive (409), global templates.
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '@meridian/contracts/api/batch';
import { call, freshOrg, json, taskRow, useRunsFixture } from '../tasks/runs.fixture.js';
import { taskOf } from '../batches/batches.fixture.js';
import { ADMIN, createTemplate, execute, fieldsOf, problem, rollingRestart } from './templates.fixture.js';

useRunsFixture();

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
