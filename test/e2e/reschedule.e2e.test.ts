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

const EVERY_TWO_SECONDS = { strategy: 'cron', expression: '*/2 * * * * *', timezone: 'UTC' };

const echoTask = (payload: Record<string, unknown> = {}) => ({
  type: 'Echo',
  name: 'cron e2e',
  targetType: 'Service',
  targetId: 'e2e-target',
  maxRetries: 0,
  payload,
});

async function executionsOf(taskId: string): Promise<Execution[]> {
  const { status, body } = await stack.api<{ items: Execution[] }>(
    'GET',
    `/api/v1/tasks/${taskId}/executions?limit=100`,
  );
  expect(status).toBe(200);
  return body.items;
}

/** A finished Echo task on the cron schedule `*\/2 * * * * *`. */
async function cronTask(payload: Record<string, unknown> = {}): Promise<string> {
  const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', { body: echoTask(payload) });
  expect(created.status).toBe(201);
  await stack.waitForStatus(created.body.id, ['Completed']);
  const rescheduled = await stack.api<{ nextRunAt: string; status: string }>(
    'PUT',
    `/api/v1/tasks/${created.body.id}/reschedule`,
    { body: EVERY_TWO_SECONDS },
  );
  expect(rescheduled.status).toBe(200);
  expect(rescheduled.body.status).toBe('Completed');
  return created.body.id;
}

describe('a cron schedule, real processes end to end', () => {
  it('runs an Echo task at its occurrences until it is cancelled, and not after', async () => {
    // Each run takes a while, so that the task is often Running, where a cancel always applies.
    const taskId = await cronTask({ delayMs: 600 });
    // Same schedule, never cancelled: its runs show the cron sweep passing each occurrence.
    const witnessId = await cronTask();

    const scheduledRuns = await waitFor(
      async () => {
        const runs = (await executionsOf(taskId)).filter(
          (execution) => execution.trigger.type === 'scheduled' && execution.status === 'Completed',
        );
        return runs.length >= 2 ? runs : undefined;
      },
      { timeoutMs: 20_000, description: 'two scheduled runs to complete' },
    );
    for (const run of scheduledRuns) {
      expect(run.trigger.reason).toBe('cron');
      expect(Number.isNaN(Date.parse(String(run.trigger.context['occurrence'])))).toBe(false);
      expect(run.runNumber).toBeGreaterThan(1);
    }

    // A cancel applies while a run is out; between runs (Completed) it may be refused, so try again.
    const cancelledAt = await waitFor(
      async () => {
        await stack.waitForStatus(taskId, ['Running']);
        const { status } = await stack.api('DELETE', `/api/v1/tasks/${taskId}`);
        return status === 200 ? Date.now() : undefined;
      },
      { timeoutMs: 20_000, description: 'the cron task to be cancelled' },
    );
    await stack.waitForStatus(taskId, ['Cancelled']);
    const executionsAtCancel = (await executionsOf(taskId)).length;

    // Two occurrences after the cancel have started runs of the witness: the sweep went past them.
    await waitFor(
      async () =>
        (await executionsOf(witnessId)).some(
          (execution) => Date.parse(String(execution.trigger.context['occurrence'])) >= cancelledAt + 4000,
        ),
      { timeoutMs: 20_000, description: 'the witness to run for two occurrences after the cancel' },
    );
    expect(await executionsOf(taskId)).toHaveLength(executionsAtCancel);
    const task = await stack.api<{ status: string }>('GET', `/api/v1/tasks/${taskId}`);
    expect(task.body.status).toBe('Cancelled');

    const paused = await waitFor(
      async () => {
        const { status, body } = await stack.api<{ status: string; pauseRequested: boolean }>(
          'POST',
          `/api/v1/tasks/${witnessId}/pause`,
        );
        return status === 200 ? body : undefined;
      },
      { description: 'the witness to pause' },
    );
    expect(paused.status === 'Paused' || paused.pauseRequested).toBe(true);
  });
});
