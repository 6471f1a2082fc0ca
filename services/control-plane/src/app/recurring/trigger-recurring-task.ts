import type { RecurringOccurrence } from '@meridian/contracts/api/recurring';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import { lockRecurringTaskOfOrg } from '../../persistence/recurring-tasks.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { fireOccurrence } from './fire-occurrence.js';

/**
 * One occurrence now, at the caller's request: a task as the schedule would create, whether or not
 * the recurring task is enabled and whatever its overlap policy (the caller asked for this run).
 * Its schedule is not moved. 422 when the task cannot be placed.
 */
export async function triggerRecurringTask(
  deps: AppDeps,
  actor: Actor,
  id: string,
): Promise<RecurringOccurrence> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const recurring = await lockRecurringTaskOfOrg(manager, actor.orgId, id);
    if (!recurring) throw new NotFoundError('recurring task', id);
    const fired = await fireOccurrence(manager, deps, recurring, {
      scheduledFor: now,
      manual: true,
      actor: `user:${actor.userId}`,
      now,
    });
    if (fired.outcome === 'duplicate') {
      throw new ConflictError(`recurring task ${id} already has an occurrence at ${now.toISOString()}`);
    }
    if (fired.outcome === 'skipped') throw new Error('a manual occurrence is never skipped');
    await manager.update(
      RecurringTaskEntity,
      { id },
      { lastRunAt: recurring.lastRunAt, lastTaskId: recurring.lastTaskId },
    );
    return {
      scheduledFor: now.toISOString(),
      firedAt: now.toISOString(),
      manual: true,
      outcome: 'created',
      taskId: fired.taskId,
      taskStatus: 'Pending',
      skipReason: null,
    };
  });
}
