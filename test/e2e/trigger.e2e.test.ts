import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const stack = useStack();

interface Execution {
  executionId: string;
  status: string;
  runNumber: number;
  trigger: { type: string; reason: string | null; context: Record<string, unknown> };
}

describe('trigger, real processes end to end', () => {
  it('runs a Completed Echo task again: a second execution under the announced id, Completed', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: { type: 'Echo', targetType: 'Service', targetId: 'e2e-target', payload: { delayMs: 50 } },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.id;
    expect((await stack.waitForStatus(taskId, ['Completed', 'Failed', 'Timeout']))['status']).toBe(
      'Completed',
    );

    const triggered = await stack.api<{
      executionId: string;
      runNumber: number;
      estimatedCompletion: string;
    }>('POST', `/api/v1/tasks/${taskId}/trigger`, {
      body: { context: { release: '1.2.3' }, triggerReason: 'e2e' },
    });
    expect(triggered.status).toBe(202);
    expect(triggered.body.runNumber).toBe(2);
    // The first run's duration makes an estimate.
    expect(triggered.body.estimatedCompletion).toEqual(expect.any(String));

    const second = await waitFor(
      async () => {
        const { status, body } = await stack.api<Execution>(
          'GET',
          `/api/v1/tasks/executions/${triggered.body.executionId}`,
        );
        return status === 200 && body.status === 'Completed' ? body : undefined;
      },
      { timeoutMs: 15_000, description: 'the triggered execution to complete' },
    );
    expect(second).toMatchObject({
      runNumber: 2,
      trigger: { type: 'manual', reason: 'e2e', context: { release: '1.2.3' } },
    });
    expect((await stack.waitForStatus(taskId, ['Completed']))['runNumber']).toBe(2);

    const executions = await stack.api<{ items: Execution[] }>('GET', `/api/v1/tasks/${taskId}/executions`);
    expect(executions.body.items.map((e) => [e.runNumber, e.trigger.type, e.status])).toEqual([
      [1, 'api', 'Completed'],
      [2, 'manual', 'Completed'],
    ]);
    expect(executions.body.items[1]!.executionId).toBe(triggered.body.executionId);
  });

  it('runs a run queued behind a running one once that one ends (the control plane’s queued-run sweep)', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: { type: 'Echo', targetType: 'Service', targetId: 'e2e-target', payload: { delayMs: 1500 } },
    });
    const taskId = created.body.id;
    await stack.waitForStatus(taskId, ['Running']);
    const refused = await stack.api<{ detail: string }>('POST', `/api/v1/tasks/${taskId}/execute`);
    expect(refused.status).toBe(409);
    const queued = await stack.api<{ executionId: string; queued: boolean }>(
      'POST',
      `/api/v1/tasks/${taskId}/execute`,
      { body: { queue: true } },
    );
    expect(queued.status).toBe(202);
    expect(queued.body.queued).toBe(true);
    await waitFor(
      async () => {
        const { status, body } = await stack.api<Execution>(
          'GET',
          `/api/v1/tasks/executions/${queued.body.executionId}`,
        );
        return status === 200 && body.status === 'Completed';
      },
      { timeoutMs: 15_000, description: 'the queued run to complete' },
    );
    const executions = await stack.api<{ items: Execution[] }>('GET', `/api/v1/tasks/${taskId}/executions`);
    expect(executions.body.items.map((e) => [e.runNumber, e.status])).toEqual([
      [1, 'Completed'],
      [2, 'Completed'],
    ]);
  });
});
