import { FIRE_ALL_LIMIT } from '@meridian/contracts/api/recurring';
import { nextOccurrence } from '../../domain/cron-schedule.js';
import { decideMisfire, decideOverlap } from '../../domain/recurring-decisions.js';
import { dueOccurrences } from '../../domain/recurring-schedule.js';
import { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import {
  insertOccurrences,
  isTaskUnfinished,
  lockDueRecurringTask,
} from '../../persistence/recurring-tasks.js';
import type { AppDeps } from '../app-deps.js';
import { fireOccurrence } from './fire-occurrence.js';

/**
 * One pass of the recurring loop (every replica runs one): up to `limit` due recurring tasks, each
 * in a transaction of its own that locks it (SKIP LOCKED), records and fires its due occurrences
 * (misfire, then overlap policy), and moves its next run on. Returns how many it handled.
 */
export async function fireDueRecurringTasks(deps: AppDeps, limit: number): Promise<number> {
  let handled = 0;
  while (handled < limit && (await fireOneDueRecurringTask(deps))) handled += 1;
  return handled;
}

async function fireOneDueRecurringTask(deps: AppDeps): Promise<boolean> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const recurring = await lockDueRecurringTask(manager, now);
    if (!recurring) return false;
    const spec = { expression: recurring.schedule, timezone: recurring.timezone };
    const due = dueOccurrences(spec, { from: recurring.nextRunAt!, now, missedLimit: FIRE_ALL_LIMIT });
    const decision = decideMisfire(due, recurring.misfire);
    const skipped = (scheduledFor: Date, skipReason: string) => ({
      recurringTaskId: recurring.id,
      orgId: recurring.orgId,
      scheduledFor,
      firedAt: now,
      manual: false,
      taskId: null,
      skipReason,
    });
    await insertOccurrences(
      manager,
      decision.skip.map((at) => skipped(at, 'misfire')),
    );
    let previousUnfinished = await isTaskUnfinished(manager, recurring.lastTaskId);
    let nextRunAt = nextOccurrence(spec, now);
    for (const scheduledFor of decision.fire) {
      const overlap = decideOverlap(recurring.overlap, previousUnfinished);
      if (overlap === 'wait') {
        nextRunAt = scheduledFor;
        break;
      }
      if (overlap === 'skip') {
        await insertOccurrences(manager, [skipped(scheduledFor, 'overlap')]);
        continue;
      }
      const fired = await fireOccurrence(manager, deps, recurring, {
        scheduledFor,
        manual: false,
        actor: 'system:recurring',
        now,
      });
      if (fired.outcome === 'created') previousUnfinished = true;
    }
    await manager.update(
      RecurringTaskEntity,
      { id: recurring.id },
      { nextRunAt, lastRunAt: recurring.lastRunAt, lastTaskId: recurring.lastTaskId },
    );
    return true;
  });
}
