import type { Batch } from '@meridian/contracts/api/batch';
import { BATCH_ACTOR, FINISHED_BATCH_STATUSES, isActive } from '../../domain/batch-saga.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { appendBatchEvents, setBatchStatus } from '../../persistence/batch.writes.js';
import { findBatch, loadBatchTasks } from '../../persistence/batch-snapshot.reads.js';
import { cancelWaitingTasks } from '../../persistence/batch-task.writes.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { cancelTask } from '../cancel-task.js';
import { getBatch } from './batch-queries.js';

const REASON = 'batch cancelled';

/**
 * `DELETE /tasks/batches/{id}`: the batch ends Cancelled, its waiting tasks are cancelled with it
 * (under the batch's row lock, so that the worker releases none of them), then each task that is
 * queued or out on a node is cancelled through the usual cancel path. No compensation runs. A
 * batch that has ended is a 409.
 */
export async function cancelBatch(deps: AppDeps, actor: Actor, batchId: string): Promise<Batch> {
  const active = await deps.dataSource.transaction(async (manager) => {
    const batch = await findBatch(manager, batchId, actor.orgId, true);
    if (!batch) throw new NotFoundError('batch', batchId);
    if (FINISHED_BATCH_STATUSES.has(batch.status)) {
      throw new ConflictError(`batch ${batchId} has already ended (${batch.status})`);
    }
    const now = deps.clock.now();
    const { tasks } = await loadBatchTasks(manager, batchId);
    const waiting = tasks.filter((task) => task.status === 'Created');
    const cancelled = await cancelWaitingTasks(
      manager,
      waiting.map((task) => ({ id: task.id, reason: REASON })),
      BATCH_ACTOR,
      now,
    );
    const running = tasks.filter((task) => isActive(task.status));
    await setBatchStatus(manager, batchId, 'Cancelled', true, now);
    await appendBatchEvents(manager, [
      {
        orgId: actor.orgId,
        batchId,
        type: 'BatchCancelled',
        data: {
          actor: `user:${actor.userId}`,
          cancelledSteps: waiting.filter((t) => cancelled.includes(t.id)).map((t) => t.batch_step_name),
          stoppingSteps: running.map((task) => task.batch_step_name),
        },
        occurredAt: now,
      },
    ]);
    return running.map((task) => task.id);
  });
  for (const taskId of active) {
    try {
      await cancelTask(deps, actor, taskId, REASON);
    } catch (error) {
      // It ended between the two transactions: nothing left to stop.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  deps.logger.info(
    { batchId, correlationId: actor.correlationId, stopping: active.length },
    'batch cancelled',
  );
  return getBatch(deps, actor, batchId);
}
