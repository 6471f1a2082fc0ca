import { transition } from '../../domain/task-status.js';
import {
  lockIdleTasksWithQueuedRuns,
  oldestQueuedRun,
  recountQueuedRuns,
} from '../../persistence/queued-runs.js';
import type { AppDeps } from '../app-deps.js';
import { promoteQueuedRun } from './promote-queued-run.js';

/**
 * One pass of the queued-run sweep: on each idle task (Completed, Failed or Timeout, no pause
 * requested) with runs queued behind its last one, the oldest queued run becomes current and
 * the task goes back to Pending for the dispatcher. Every replica may run it (SKIP LOCKED).
 * Returns how many runs it started.
 */
export async function startQueuedRuns(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  const started = await deps.dataSource.transaction(async (manager) => {
    const tasks = await lockIdleTasksWithQueuedRuns(manager, batchSize);
    const runs: { taskId: string; runNumber: number; correlationId: string }[] = [];
    for (const task of tasks) {
      const moved = transition(task.status, { type: 'Trigger', queue: false });
      if (!moved.ok) throw new Error(`queued-run sweep on task ${task.id}: ${moved.error}`);
      const run = await oldestQueuedRun(manager, task.id);
      if (!run) {
        // A count without its rows would hold the task in every pass: count the rows again.
        deps.logger.error({ taskId: task.id }, 'queued run count without a queued run');
        await recountQueuedRuns(manager, task.id);
        continue;
      }
      await promoteQueuedRun(manager, task, run, moved.to, now);
      runs.push({ taskId: task.id, runNumber: run.runNumber, correlationId: run.correlationId });
    }
    return runs;
  });
  for (const run of started) deps.logger.info(run, 'queued run started');
  return started.length;
}
