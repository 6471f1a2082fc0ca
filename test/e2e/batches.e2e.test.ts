/**
 * Batches end to end with the real control plane and agent: seed 004's stop → backup → update →
 * start chain strictly in order, a diamond whose two middle steps run at the same time, and a
 * failing middle step that cancels its dependents and runs the compensations in reverse order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startControlPlane } from '../support/processes.js';
import { waitFor } from '../support/test-context.js';
import { commandTask, useStack } from './stack.js';

const stack = useStack({ capacity: 10 });

interface BatchView {
  id: string;
  status: string;
  tasks: { taskId: string; name: string; status: string }[];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meridian-batches-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A Command step that appends its name to the batch's log. */
const logging = (name: string, extra: Record<string, unknown> = {}) => ({
  ...commandTask(`echo ${name} >> '${dir}/log'`, { maxRetries: 0 }),
  name,
  ...extra,
});
const compensation = (line: string) => {
  const { name: _name, ...task } = logging(line);
  return task;
};
const logLines = () => readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');

async function createBatch(body: unknown): Promise<BatchView> {
  const created = await stack.api<BatchView>('POST', '/api/v1/tasks/batch', { body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function waitForBatch(id: string, statuses: string[]): Promise<BatchView> {
  return waitFor(
    async () => {
      const { body } = await stack.api<BatchView>('GET', `/api/v1/tasks/batches/${id}`);
      return statuses.includes(body.status) ? body : undefined;
    },
    { timeoutMs: 60_000, description: `batch ${id} to reach ${statuses.join('|')}` },
  );
}

const idOf = (batch: BatchView, name: string) => batch.tasks.find((task) => task.name === name)!.taskId;

/** The audit log's id of the task's first event of `type`: ids grow in commit order across tasks. */
async function eventId(taskId: string, type: string): Promise<number> {
  const { rows } = await stack.db.query<{ id: string }>(
    `SELECT min(id)::text AS id FROM task_events WHERE task_id = $1 AND type = $2`,
    [taskId, type],
  );
  expect(rows[0]?.id, `${type} of ${taskId}`).not.toBeNull();
  return Number(rows[0]!.id);
}

describe('batches with the real processes', () => {
  it('runs stop → backup → update → start strictly in order', async () => {
    const names = ['stop-server', 'backup-world', 'update-files', 'start-server'];
    const batch = await createBatch({
      name: 'seed 004 update',
      tasks: names.map((name, index) => logging(name, index === 0 ? {} : { dependsOn: [names[index - 1]] })),
    });
    const done = await waitForBatch(batch.id, ['Completed', 'Failed', 'Compensated']);
    expect(done.status).toBe('Completed');
    expect(logLines()).toEqual(names);
    for (let index = 1; index < names.length; index += 1) {
      const completed = await eventId(idOf(batch, names[index - 1]!), 'TaskCompleted');
      const queued = await eventId(idOf(batch, names[index]!), 'TaskQueued');
      const started = await eventId(idOf(batch, names[index]!), 'TaskStarted');
      expect(queued, `${names[index]} queued after ${names[index - 1]} completed`).toBeGreaterThan(completed);
      expect(started).toBeGreaterThan(queued);
    }
  });

  it('runs the two middle steps of a diamond at the same time', async () => {
    // B and C each wait (up to 20 s) for the other to have started: both complete only if they overlap.
    const meet = (self: string, other: string) =>
      `touch '${dir}/${self}'; i=0; while [ ! -e '${dir}/${other}' ]; do sleep 0.05; i=$((i+1)); ` +
      `if [ $i -gt 400 ]; then exit 3; fi; done; echo ${self} >> '${dir}/log'`;
    const batch = await createBatch({
      tasks: [
        logging('A'),
        { ...commandTask(meet('B', 'C'), { maxRetries: 0 }), name: 'B', dependsOn: ['A'] },
        { ...commandTask(meet('C', 'B'), { maxRetries: 0 }), name: 'C', dependsOn: ['A'] },
        logging('D', { dependsOn: ['B', 'C'] }),
      ],
    });
    const done = await waitForBatch(batch.id, ['Completed', 'Failed', 'Compensated']);
    expect(done.status).toBe('Completed');
    const lines = logLines();
    expect(lines[0]).toBe('A');
    expect(lines.slice(1, 3).sort()).toEqual(['B', 'C']);
    expect(lines[3]).toBe('D');
  });

  it('cancels the dependents of a failing step and runs the compensations in reverse order', async () => {
    const batch = await createBatch({
      tasks: [
        logging('stop-server', { onFailure: [compensation('start-server-again')] }),
        logging('backup-world', { dependsOn: ['stop-server'], onFailure: [compensation('remove-backup')] }),
        {
          ...commandTask(`echo update-files >> '${dir}/log'; exit 1`, { maxRetries: 0 }),
          name: 'update-files',
          dependsOn: ['backup-world'],
        },
        logging('start-server', { dependsOn: ['update-files'] }),
      ],
    });
    const done = await waitForBatch(batch.id, ['Completed', 'Failed', 'Compensated', 'Cancelled']);
    expect(done.status).toBe('Compensated');
    expect(logLines()).toEqual([
      'stop-server',
      'backup-world',
      'update-files',
      'remove-backup',
      'start-server-again',
    ]);
    const statusOf = Object.fromEntries(done.tasks.map((task) => [task.name, task.status]));
    expect(statusOf).toEqual({
      'stop-server': 'Completed',
      'backup-world': 'Completed',
      'update-files': 'Failed',
      'start-server': 'Cancelled',
      'stop-server/onFailure[0]': 'Completed',
      'backup-world/onFailure[0]': 'Completed',
    });
    const { body } = await stack.api<{ items: { type: string }[] }>(
      'GET',
      `/api/v1/tasks/batches/${batch.id}/events`,
    );
    expect(body.items.map((event) => event.type)).toEqual(
      expect.arrayContaining(['StepCompleted', 'NoViableSteps', 'CompensationStarted', 'BatchFailed']),
    );
  });

  it('releases each dependent exactly once with two control-plane replicas', async () => {
    // Both replicas hear every wake-up and race for it.
    const replica = await startControlPlane({
      databaseUrl: stack.databaseUrl,
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      env: { POLL_INTERVAL_MS: '200' },
    });
    try {
      const fanOut = Array.from({ length: 20 }, (_, index) =>
        logging(`leaf-${index}`, { dependsOn: ['root'] }),
      );
      const batch = await createBatch({
        tasks: [logging('root'), ...fanOut, logging('last', { dependsOn: fanOut.map((t) => t.name) })],
      });
      const done = await waitForBatch(batch.id, ['Completed', 'Failed', 'Compensated']);
      expect(done.status).toBe('Completed');
      expect(logLines()).toHaveLength(22);
      const { rows } = await stack.db.query<{ task_id: string; queued: string; executions: string }>(
        `SELECT t.id AS task_id,
                (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.type = 'TaskQueued')::text AS queued,
                (SELECT count(*) FROM executions x WHERE x.task_id = t.id)::text AS executions
           FROM tasks t WHERE t.batch_id = $1`,
        [batch.id],
      );
      expect(rows).toHaveLength(22);
      for (const row of rows) expect([row.queued, row.executions], row.task_id).toEqual(['1', '1']);
    } finally {
      await replica.stop();
    }
  });
});
