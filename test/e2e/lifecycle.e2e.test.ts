import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/test-context.js';
import { commandTask, useStack } from './stack.js';

// A cancel's SIGTERM → SIGKILL grace outlasts every test: a process gone after a cancel went by SIGTERM.
const stack = useStack({ env: { CANCEL_GRACE_SECONDS: '3600' } });

interface TaskEvent {
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  correlationId: string;
}

function pidsOf(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('the dispatch loop, real processes end to end', () => {
  it('runs `echo hello` to Completed with exit code 0, its output, and one event per transition in order', async () => {
    const created = await stack.api<{ id: string; status: string }>('POST', '/api/v1/tasks', {
      body: commandTask(['echo', 'hello']),
    });
    expect(created.status).toBe(201);
    const correlationId = created.headers.get('x-correlation-id');
    expect(correlationId).toBeTruthy();
    const task = await stack.waitForStatus(created.body.id, ['Completed', 'Failed', 'Timeout']);
    expect(task['status']).toBe('Completed');

    const executions = await stack.api<{ items: { exitCode: number; output: string; status: string }[] }>(
      'GET',
      `/api/v1/tasks/${created.body.id}/executions`,
    );
    expect(executions.body.items).toHaveLength(1);
    expect(executions.body.items[0]).toMatchObject({ status: 'Completed', exitCode: 0, output: 'hello\n' });

    const events = await stack.api<{ items: TaskEvent[] }>('GET', `/api/v1/tasks/${created.body.id}/events`);
    const transitions = events.body.items
      .filter((e) => e.toStatus !== null)
      .map((e) => `${e.fromStatus}→${e.toStatus}`);
    expect(transitions).toEqual([
      'null→Created',
      'Created→Pending',
      'Pending→Scheduled',
      'Scheduled→Running',
      'Running→Completed',
    ]);
    expect(events.body.items.every((e) => e.correlationId === correlationId)).toBe(true);
  });

  it('ends a failing command Failed with its exit code', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: commandTask('exit 7') });
    const task = await stack.waitForStatus(created.body.id, ['Failed', 'Completed', 'Timeout']);
    expect(task['status']).toBe('Failed');
    const executions = await stack.api<{ items: { exitCode: number; status: string }[] }>(
      'GET',
      `/api/v1/tasks/${created.body.id}/executions`,
    );
    expect(executions.body.items.at(-1)).toMatchObject({ status: 'Failed', exitCode: 7 });
  });

  it('cancels a running `sleep 30`: Cancelled, and the process is gone by SIGTERM', async () => {
    const marker = `30.${Date.now() % 100_000}`;
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: commandTask(['sleep', marker]),
    });
    await stack.waitForStatus(created.body.id, ['Running']);
    const pids = await waitFor(
      () => (pidsOf(`sleep ${marker}`).length > 0 ? pidsOf(`sleep ${marker}`) : undefined),
      {
        description: 'the sleep process to exist',
      },
    );
    const deleted = await stack.api<{ status: string }>('DELETE', `/api/v1/tasks/${created.body.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe('Cancelled');
    await waitFor(() => pidsOf(`sleep ${marker}`).length === 0, { description: 'the process to be gone' });
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();

    const execution = await waitFor(
      async () => {
        const { body } = await stack.api<{ items: { status: string }[] }>(
          'GET',
          `/api/v1/tasks/${created.body.id}/executions`,
        );
        return body.items[0]?.status === 'Cancelled' ? body.items[0] : undefined;
      },
      { description: 'the agent to confirm the cancel' },
    );
    expect(execution.status).toBe('Cancelled');
    const again = await stack.api('DELETE', `/api/v1/tasks/${created.body.id}`);
    expect(again.status).toBe(409);
  });

  it('shows another organisation none of these tasks: 404 on each, an empty list', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: commandTask(['true']) });
    const other = await stack.tokenFor('some-other-org');
    for (const path of [
      `/api/v1/tasks/${created.body.id}`,
      `/api/v1/tasks/${created.body.id}/events`,
      `/api/v1/tasks/${created.body.id}/executions`,
    ]) {
      const response = await stack.api('GET', path, { token: other });
      expect(response.status, path).toBe(404);
    }
    expect((await stack.api('DELETE', `/api/v1/tasks/${created.body.id}`, { token: other })).status).toBe(
      404,
    );
    expect((await stack.api('POST', `/api/v1/tasks/${created.body.id}/retry`, { token: other })).status).toBe(
      404,
    );
    const list = await stack.api<{ items: unknown[]; total: number }>('GET', '/api/v1/tasks', {
      token: other,
    });
    expect(list.body).toMatchObject({ items: [], total: 0 });
    const nodes = await stack.api<{ items: unknown[] }>('GET', '/api/v1/nodes', { token: other });
    expect(nodes.body.items).toEqual([]);
  });
});
