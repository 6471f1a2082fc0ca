import type { EntityManager } from 'typeorm';
import {
  BATCH_ACTOR,
  FINISHED_BATCH_STATUSES,
  planSaga,
  type SagaSnapshot,
} from '../../domain/batch-saga.js';
import { batchEventsPart, setBatchStatus } from '../../persistence/batch.writes.js';
import {
  findBatch,
  loadBatchTasks,
  type BatchRow,
  type BatchTasks,
} from '../../persistence/batch-snapshot.reads.js';
import { cancelWaitingTasks, releaseWaitingTasks } from '../../persistence/batch-task.writes.js';
import { taskEventsPart } from '../../persistence/task-event.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import type { AppDeps } from '../app-deps.js';

/**
 * One pass of the batches' worker (every replica runs it): takes batches that have wake-ups (ends
 * of their tasks, written by the `tasks` trigger in the transaction of each end), one transaction
 * per batch, until `limit` batches or none is left. Returns how many batches it advanced.
 */
export async function advanceBatches(deps: AppDeps, limit: number): Promise<number> {
  let handled = 0;
  while (handled < limit && (await advanceOneBatch(deps))) handled += 1;
  return handled;
}

/**
 * Claims one wake-up (SKIP LOCKED: replicas take different ones), locks its batch's row (a second
 * replica woken for the same batch waits here, then sees the first one's work), takes every other
 * wake-up of the batch it can, plans and applies the plan. All in one transaction: a crash undoes
 * it and leaves the wake-ups for the next pass.
 */
async function advanceOneBatch(deps: AppDeps): Promise<boolean> {
  let batchId: string | null = null;
  try {
    return await deps.dataSource.transaction(async (manager) => {
      const [claimed] = await manager.query<{ id: string; batch_id: string }[]>(
        `SELECT id::text, batch_id FROM batch_wakeups ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      if (!claimed) return false;
      batchId = claimed.batch_id;
      const batch = await findBatch(manager, claimed.batch_id, null, true);
      const wakeups = await manager.query<{ task_id: string | null }[]>(
        `WITH taken AS (
           DELETE FROM batch_wakeups WHERE id IN (
             SELECT id FROM batch_wakeups WHERE batch_id = $1 FOR UPDATE SKIP LOCKED)
           RETURNING task_id)
         SELECT task_id FROM taken`,
        [claimed.batch_id],
      );
      // The claimed row is locked by this transaction, so the DELETE took it too.
      if (!batch) return true;
      const finished = wakeups.flatMap((wakeup) => (wakeup.task_id ? [wakeup.task_id] : []));
      await advanceBatch(deps, manager, batch, [...new Set(finished)]);
      return true;
    });
  } catch (error) {
    if (batchId === null) throw error;
    // Its wake-ups go to the back of the queue, so that one batch that cannot be advanced does not
    // hold up the others; the pass ends, and the next one (a NOTIFY or the safety poll) retries.
    deps.logger.error({ err: error, batchId }, 'batch could not be advanced; retried later');
    await requeueWakeups(deps, batchId);
    return false;
  }
}

async function requeueWakeups(deps: AppDeps, batchId: string): Promise<void> {
  await deps.dataSource.query(
    `WITH moved AS (
       DELETE FROM batch_wakeups WHERE id IN (
         SELECT id FROM batch_wakeups WHERE batch_id = $1 FOR UPDATE SKIP LOCKED)
       RETURNING batch_id, task_id, status)
     INSERT INTO batch_wakeups (batch_id, task_id, status) SELECT batch_id, task_id, status FROM moved`,
    [batchId],
  );
}

async function advanceBatch(
  deps: AppDeps,
  manager: EntityManager,
  batch: BatchRow,
  finishedTaskIds: string[],
): Promise<void> {
  const now = deps.clock.now();
  const tasks = await loadBatchTasks(manager, batch.id);
  const plan = planSaga(snapshotOf(batch, tasks, finishedTaskIds), now);
  const cancelled = await cancelWaitingTasks(manager, plan.cancel, BATCH_ACTOR, now);
  const released = await releaseWaitingTasks(manager, plan.release, BATCH_ACTOR, now);
  if (plan.status !== null) {
    await setBatchStatus(manager, batch.id, plan.status, FINISHED_BATCH_STATUSES.has(plan.status), now);
  }
  const correlationId = batch.correlation_id;
  await new WriteBatch()
    .add(
      batchEventsPart(
        plan.events.map((event) => ({
          orgId: batch.org_id,
          batchId: batch.id,
          taskId: event.taskId ?? null,
          type: event.type,
          data: event.data,
          occurredAt: now,
        })),
      ),
    )
    .add(
      taskEventsPart(
        plan.stepEvents.map((event) => ({
          orgId: batch.org_id,
          taskId: event.taskId!,
          type: event.type,
          actor: BATCH_ACTOR,
          correlationId,
          data: { batchId: batch.id, ...event.data },
          occurredAt: now,
        })),
      ),
    )
    .run(manager);
  if (released.length + cancelled.length > 0 || plan.status !== null) {
    deps.logger.info(
      { batchId: batch.id, released, cancelled, status: plan.status ?? batch.status, correlationId },
      'batch advanced',
    );
  }
}

function snapshotOf(
  batch: BatchRow,
  { tasks, dependencies, external }: BatchTasks,
  finished: string[],
): SagaSnapshot {
  const dependsOn = new Map<string, string[]>();
  for (const dependency of dependencies) {
    dependsOn.set(dependency.task_id, [
      ...(dependsOn.get(dependency.task_id) ?? []),
      dependency.depends_on_task_id,
    ]);
  }
  const common = (task: BatchTasks['tasks'][number]) => ({
    id: task.id,
    name: task.batch_step_name,
    status: task.status,
    position: task.batch_position,
    cancelledByBatch: task.cancelled_by === BATCH_ACTOR,
    completedAt: task.completed_at,
  });
  return {
    status: batch.status,
    failurePolicy: batch.failure_policy,
    createdAt: batch.created_at,
    steps: tasks
      .filter((task) => task.batch_role === 'step')
      .map((task) => ({ ...common(task), dependsOn: dependsOn.get(task.id) ?? [] })),
    compensations: tasks
      .filter((task) => task.batch_role === 'compensation')
      .map((task) => ({ ...common(task), compensatesId: task.compensates_task_id! })),
    externalStatus: external,
    finishedTaskIds: finished,
  };
}
