/**
 * Templates end to end with the real control plane and agent: seed 004's "rolling-restart"
 * template (backup → stop → start, ordered by `order`) executed with an override, each step a
 * Command that appends a line to a log, run to the batch's completion strictly in order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const stack = useStack({ capacity: 10 });

interface BatchView {
  id: string;
  status: string;
  tasks: { taskId: string; name: string; status: string; dependsOn: string[] }[];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meridian-templates-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const appendTo = (line: string) => ({ command: `echo ${line} >> '${dir}/log'`, shell: true });

describe('templates with the real processes', () => {
  it('executes the rolling-restart template with an override to the batch’s completion, in order', async () => {
    const commandSchema = {
      type: 'object',
      required: ['command'],
      properties: { command: { type: 'string', minLength: 1 }, shell: { type: 'boolean' } },
    };
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks/templates', {
      body: {
        name: 'rolling-restart',
        category: 'game-server',
        requiredFields: ['backup.payload.command'],
        tasks: [
          {
            name: 'backup',
            type: 'Command',
            order: 1,
            payload: { shell: true },
            payloadSchema: commandSchema,
          },
          { name: 'stop', type: 'Command', order: 2, payload: appendTo('stop'), maxRetries: 0 },
          { name: 'start', type: 'Command', order: 3, payload: appendTo('start'), maxRetries: 0 },
        ],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const executed = await stack.api<BatchView>(
      'POST',
      `/api/v1/tasks/templates/${created.body.id}/execute`,
      {
        body: {
          targetId: 'game-1',
          targetType: 'Service',
          overrides: {
            'backup.payload.command': appendTo('backup-of-world-1').command,
            'backup.maxRetries': 0,
          },
        },
      },
    );
    expect(executed.status, JSON.stringify(executed.body)).toBe(201);
    expect(executed.body.tasks.map((task) => [task.name, task.dependsOn])).toEqual([
      ['backup', []],
      ['stop', ['backup']],
      ['start', ['backup', 'stop']],
    ]);

    const done = await waitFor(
      async () => {
        const { body } = await stack.api<BatchView>('GET', `/api/v1/tasks/batches/${executed.body.id}`);
        return ['Completed', 'Failed', 'Compensated', 'Cancelled'].includes(body.status) ? body : undefined;
      },
      { timeoutMs: 60_000, description: `batch ${executed.body.id} to finish` },
    );
    expect(done.status).toBe('Completed');
    expect(done.tasks.map((task) => task.status)).toEqual(['Completed', 'Completed', 'Completed']);
    expect(readFileSync(join(dir, 'log'), 'utf8').trim().split('\n')).toEqual([
      'backup-of-world-1',
      'stop',
      'start',
    ]);
  });
});
