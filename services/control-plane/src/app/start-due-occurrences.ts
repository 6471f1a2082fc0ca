import { nextOccurrence } from '../domain/cron-schedule.js';
import { transition } from '../domain/task-status.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import type { AppDeps } from './app-deps.js';
import { beginRun } from './runs/begin-run.js';

/** Statuses in which a cron occurrence may start a run: nothing of the task is waiting or out. */
const IDLE_STATUSES = ['Completed', 'Failed', 'Timeout'];

/**
 * One pass of the cron sweep: each idle task (finished, not paused, no pause requested, no run
 * queued) whose next occurrence is due starts a run (trigger `scheduled`, event TaskTriggered with
 * the `occurrence` it stands for), and its next occurrence becomes the first after now: a task
 * still busy at its occurrences catches up with one run, not one per occurrence missed. Any replica
 * may run it (SKIP LOCKED). Returns how many runs it started.
 */
export async function startDueOccurrences(deps: AppDeps, batchSize: number): Promise<number> {
  const now = deps.clock.now();
  const started = await deps.dataSource.transaction(async (manager) => {
    const tasks = await manager
      .getRepository(TaskEntity)
      .createQueryBuilder('task')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('task.next_run_at <= :now', { now })
      .andWhere('task.schedule IS NOT NULL AND task.pause_requested_at IS NULL AND task.queued_run_count = 0')
      .andWhere('task.status IN (:...idle)', { idle: IDLE_STATUSES })
      .orderBy('task.next_run_at')
      .limit(batchSize)
      .getMany();
    for (const task of tasks) {
      const moved = transition(task.status, { type: 'Trigger', queue: false });
      const schedule = task.schedule!;
      const occurrence = task.nextRunAt!.toISOString();
      if (moved.ok) {
        await beginRun(
          manager,
          task,
          {
            type: 'scheduled',
            context: { occurrence },
            reason: 'cron',
            actor: 'system:scheduler',
            correlationId: task.correlationId,
          },
          { to: moved.to, now, runAfter: now, eventData: { occurrence, schedule } },
        );
      }
      await manager.update(TaskEntity, { id: task.id }, { nextRunAt: nextOccurrence(schedule, now) });
    }
    return tasks.map((task) => task.id);
  });
  if (started.length > 0) deps.logger.debug({ taskIds: started }, 'cron occurrences started');
  return started.length;
}
