import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actorOf,
  createTestAppDeps,
  dispatchedExecution,
  heartbeat,
  report,
} from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { NodeEntity } from '../persistence/entities/node.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { recordAgentMessages } from './record-agent-messages.js';
import { listTaskEvents } from './task-queries.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

async function rowsOf(run: { taskId: string; executionId: string }) {
  const task = await deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: run.taskId });
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneByOrFail({ id: run.executionId });
  return { task, execution };
}

describe('recordAgentMessages', () => {
  it('applies two copies of one message in the same batch once', async () => {
    const run = await dispatchedExecution(deps);
    const failed = report('TaskFailed', run, 1, { error: 'exit 1', exitCode: 1, retryable: true });
    const results = await recordAgentMessages(deps, [failed, { ...failed }]);
    expect(results.map((r) => r.messageId)).toEqual([failed.messageId, failed.messageId]);
    const events = await listTaskEvents(deps, actorOf(run.orgId), run.taskId);
    expect(events.filter((event) => event.type === 'TaskFailed')).toHaveLength(1);
    expect((await rowsOf(run)).task.retryCount).toBe(1);
  });

  it('records start reports that a completion overtook, with their times, and changes no state', async () => {
    const run = await dispatchedExecution(deps);
    const acceptedAt = new Date('2026-06-01T12:00:01.000Z');
    const startedAt = new Date('2026-06-01T12:00:02.000Z');
    const completedAt = new Date('2026-06-01T12:00:03.000Z');
    await recordAgentMessages(deps, [
      report('TaskCompleted', run, 3, { exitCode: 0, durationMs: 1000 }, completedAt),
    ]);
    const late = await recordAgentMessages(deps, [
      report('TaskStarted', run, 2, { pid: 4242 }, startedAt),
      report('TaskAccepted', run, 1, {}, acceptedAt),
    ]);
    expect(late.map((r) => r.outcome)).toEqual(['applied', 'applied']);
    // A copy that comes later still (another message id) is stale: the start is recorded.
    const again = await recordAgentMessages(deps, [report('TaskStarted', run, 2, {}, startedAt)]);
    expect(again[0]?.outcome).toBe('ignored');

    const { task, execution } = await rowsOf(run);
    expect(task.status).toBe('Completed');
    expect(execution).toMatchObject({
      status: 'Completed',
      lastSequence: 3,
      acceptedAt,
      startedAt,
      completedAt,
    });
    expect(task.startedAt).toEqual(startedAt);
    const events = await listTaskEvents(deps, actorOf(run.orgId), run.taskId);
    const reports = events.filter(
      (event) =>
        event.executionId === run.executionId && !['TaskQueued', 'TaskDispatched'].includes(event.type),
    );
    expect(reports.map((event) => [event.type, event.toStatus ?? null, event.data])).toEqual([
      ['TaskCompleted', 'Completed', expect.objectContaining({ sequence: 3 })],
      ['TaskAccepted', null, { sequence: 1, late: true }],
      ['TaskStarted', null, { sequence: 2, late: true, pid: 4242 }],
      ['ReportIgnored', null, expect.objectContaining({ report: 'TaskStarted', sequence: 2 })],
    ]);
  });

  it('writes concurrent heartbeat batches over the same nodes, in any order, without a deadlock', async () => {
    const orgId = `org-beats-${Date.now()}`;
    const nodeIds = Array.from(
      { length: 40 },
      (_, i) => `node-beats-${String(i).padStart(2, '0')}-${Date.now()}`,
    );
    const at = deps.clock.now();
    const batch = (ids: string[]) => ids.map((id) => heartbeat(id, orgId, 4, at));
    // Many batches over the same rows, half of them in reverse order, at once on a pool of 4.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        recordAgentMessages(deps, batch(i % 2 === 0 ? nodeIds : [...nodeIds].reverse())),
      ),
    );
    const rows = await deps.dataSource.getRepository(NodeEntity).findBy({ orgId });
    expect(rows).toHaveLength(nodeIds.length);
  });
});
