import type { AppDeps } from '../app/app-deps.js';
import { applyRequestedPauses } from '../app/apply-requested-pauses.js';
import { fireDueRecurringTasks } from '../app/recurring/fire-due-recurring-tasks.js';
import { startDueOccurrences } from '../app/start-due-occurrences.js';
import { WorkLoop } from './work-loop.js';

const BATCH_SIZE = 100;

/**
 * The loops behind reschedules and pauses (every replica runs them; their passes claim tasks with
 * SKIP LOCKED): the cron sweep starts the runs of due occurrences, the pause sweep applies the
 * pauses requested while an execution ran, the recurring loop creates the tasks of the recurring
 * tasks' due occurrences. `intervalMs` (POLL_INTERVAL_MS) bounds how late an occurrence starts.
 */
export function createScheduleLoops(deps: AppDeps, intervalMs: number): WorkLoop[] {
  return [
    new WorkLoop({
      name: 'cron-occurrences',
      batchSize: BATCH_SIZE,
      intervalMs,
      logger: deps.logger,
      pass: () => startDueOccurrences(deps, BATCH_SIZE),
    }),
    new WorkLoop({
      name: 'requested-pauses',
      batchSize: BATCH_SIZE,
      intervalMs,
      logger: deps.logger,
      pass: () => applyRequestedPauses(deps, BATCH_SIZE),
    }),
    new WorkLoop({
      name: 'recurring-occurrences',
      batchSize: BATCH_SIZE,
      intervalMs,
      logger: deps.logger,
      pass: () => fireDueRecurringTasks(deps, BATCH_SIZE),
    }),
  ];
}
