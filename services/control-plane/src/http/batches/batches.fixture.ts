/** Shared set-up of the batch tests: the runs fixture (HTTP through the app on a real database) plus the batch worker. */
import type { Batch, BatchEvent, BatchTask } from '@meridian/contracts/api/batch';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { expect } from 'vitest';
import { report } from '../../../../../test/support/app-deps.js';
import type { AppDeps } from '../../app/app-deps.js';
import { advanceBatches } from '../../app/batches/advance-batches.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { ExecutionEntity } from '../../persistence/entities/execution.entity.js';
import { call, deps, json, taskRow } from '../tasks/runs.fixture.js';

export const echo = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'Echo',
  targetType: 'Service',
  targetId: 'game-1',
  ...extra,
});

export async function createBatch(orgId: string, body: unknown): Promise<Batch> {
  return json<Batch>(await call(orgId, 'POST', '/tasks/batch', { body }), 201);
}

export async function getBatch(orgId: string, batchId: string): Promise<Batch> {
  return json<Batch>(await call(orgId, 'GET', `/tasks/batches/${batchId}`), 200);
}

export async function batchEvents(orgId: string, batchId: string): Promise<BatchEvent[]> {
  return (
    await json<{ items: BatchEvent[] }>(await call(orgId, 'GET', `/tasks/batches/${batchId}/events`), 200)
  ).items;
}

export const taskOf = (batch: Batch, name: string): BatchTask => {
  const task = batch.tasks.find((item) => item.name === name);
  if (!task) throw new Error(`no task ${name} in the batch`);
  return task;
};

/** Every task's status by name. */
export async function statuses(orgId: string, batchId: string): Promise<Record<string, string>> {
  const batch = await getBatch(orgId, batchId);
  return Object.fromEntries(batch.tasks.map((task) => [task.name, task.status]));
}

/** One pass of the batch worker until nothing is left. */
export const advance = (using: AppDeps = deps) => advanceBatches(using, 100);

/** The agent's end report for the task's current execution (Completed, or Failed without retry). */
export async function endReport(
  taskId: string,
  outcome: 'TaskCompleted' | 'TaskFailed' = 'TaskCompleted',
): Promise<AgentMessage> {
  const task = await taskRow(taskId);
  expect(task.currentExecutionId, `task ${taskId} (${task.status}) has no execution`).not.toBeNull();
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneByOrFail({ id: task.currentExecutionId! });
  const ref = { taskId, executionId: execution.id, nodeId: execution.nodeId };
  const fields =
    outcome === 'TaskCompleted'
      ? { exitCode: 0, durationMs: 10 }
      : { error: 'boom', exitCode: 1, retryable: false, durationMs: 10 };
  return report(outcome, ref, execution.lastSequence + 1, fields, deps.clock.now());
}

/** Reports the end of the task's current execution; the clock moves a second first, so that completions are ordered. */
export async function end(taskId: string, outcome: 'TaskCompleted' | 'TaskFailed' = 'TaskCompleted') {
  deps.clock.advance(1000);
  await recordAgentMessages(deps, [await endReport(taskId, outcome)]);
}
