import type { RecurringTask, UpdateRecurringTaskBody } from '@meridian/contracts/api/recurring';
import { NotFoundError } from '../../domain/errors.js';
import { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import { lockRecurringTaskOfOrg } from '../../persistence/recurring-tasks.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { checkRecurringDefinition } from './recurring-definition.js';
import { withOccurrences } from './recurring-queries.js';

/**
 * Changes a recurring task, checked again as a whole. Its next run is computed again from now
 * (a new schedule, zone or enabling takes effect at once; disabling clears it): occurrences that
 * passed while it was disabled are not fired.
 */
export async function updateRecurringTask(
  deps: AppDeps,
  actor: Actor,
  id: string,
  body: UpdateRecurringTaskBody,
): Promise<RecurringTask> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const row = await lockRecurringTaskOfOrg(manager, actor.orgId, id);
    if (!row) throw new NotFoundError('recurring task', id);
    const defined = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
    Object.assign(row, defined);
    row.nextRunAt = await checkRecurringDefinition(manager, actor.orgId, row, now);
    row.updatedAt = now;
    await manager.save(RecurringTaskEntity, row);
    deps.logger.info(
      { recurringTaskId: id, correlationId: actor.correlationId, fields: Object.keys(defined) },
      'recurring task changed',
    );
    return withOccurrences(manager, row);
  });
}

/** Deletes a recurring task and its occurrences; the tasks it created stay. */
export async function deleteRecurringTask(deps: AppDeps, actor: Actor, id: string): Promise<void> {
  const result = await deps.dataSource.getRepository(RecurringTaskEntity).delete({ id, orgId: actor.orgId });
  if (!result.affected) throw new NotFoundError('recurring task', id);
  deps.logger.info({ recurringTaskId: id, correlationId: actor.correlationId }, 'recurring task deleted');
}
