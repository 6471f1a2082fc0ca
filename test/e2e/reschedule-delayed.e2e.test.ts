import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const stack = useStack();

interface Execution {
  executionId: string;
  status: string;
  runNumber: number;
  dispatchedAt: string;
  exitCode: number | null;
  trigger: { type: string };
}

interface TaskEvent {
  eventType: string;
  timestamp: string;
  metadata: Record<string, unknown>;
}

describe('reschedule of a failed task, real processes end to end', () => {
  it('runs a failed task again about 2 s after a `delayed 2s` reschedule, never before', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: {
        type: 'Command',
        targetType: 'Service',
        targetId: 'e2e-target',
        maxRetries: 0,
        payload: { command: ['false'] },
      },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.id;
    expect((await stack.waitForStatus(taskId, ['Completed', 'Failed', 'Timeout']))['status']).toBe('Failed');

    const rescheduled = await stack.api<{ nextRunAt: string; executionId: string; status: string }>(
      'PUT',
      `/api/v1/tasks/${taskId}/reschedule`,
      { body: { strategy: 'delayed', delay: '2s' } },
    );
    expect(rescheduled.status).toBe(200);
    expect(rescheduled.body.status).toBe('Pending');

    const second = await waitFor(
      async () => {
        const { status, body } = await stack.api<Execution>(
          'GET',
          `/api/v1/tasks/executions/${rescheduled.body.executionId}`,
        );
        return status === 200 && body.status === 'Failed' ? body : undefined;
      },
      { timeoutMs: 20_000, description: 'the rescheduled run to fail again' },
    );
    expect(second).toMatchObject({ runNumber: 2, exitCode: 1, trigger: { type: 'scheduled' } });

    // Both times are the control plane's own clock: the reschedule's event and the dispatch.
    const events = await stack.api<{ items: TaskEvent[] }>(
      'GET',
      `/api/v1/tasks/${taskId}/events?types=TaskRescheduled`,
    );
    const [event] = events.body.items;
    expect(event).toBeDefined();
    const waited = Date.parse(second.dispatchedAt) - Date.parse(event!.timestamp);
    expect(waited).toBeGreaterThanOrEqual(2000);
    // "About": the dispatcher polls; a generous bound only says it was not left waiting.
    expect(waited).toBeLessThan(12_000);
    expect(Date.parse(rescheduled.body.nextRunAt) - Date.parse(event!.timestamp)).toBe(2000);
  });
});
