import type { EntityManager } from 'typeorm';
import { TaskRunEntity } from './entities/task-run.entity.js';
import { TaskEntity } from './entities/task.entity.js';

/**
 * Locks up to `limit` tasks that are idle (Completed, Failed or Timeout, no pause requested) with
 * runs queued behind their last one, oldest change first. SKIP LOCKED: every replica may sweep at
 * once, and a task a user is changing waits for the next pass.
 */
export async function lockIdleTasksWithQueuedRuns(
  manager: EntityManager,
  limit: number,
): Promise<TaskEntity[]> {
  return manager
    .getRepository(TaskEntity)
    .createQueryBuilder('task')
    .where('task.queued_run_count > 0')
    .andWhere(`task.status IN ('Completed', 'Failed', 'Timeout')`)
    .andWhere('task.pause_requested_at IS NULL')
    .orderBy('task.updated_at')
    .limit(limit)
    .setLock('pessimistic_write')
    .setOnLocked('skip_locked')
    .getMany();
}

/** The run that has waited longest behind the current one of a task, or null. */
export async function oldestQueuedRun(manager: EntityManager, taskId: string): Promise<TaskRunEntity | null> {
  return manager
    .getRepository(TaskRunEntity)
    .createQueryBuilder('run')
    .where(`run.task_id = :taskId AND run.state = 'queued'`, { taskId })
    .orderBy('run.run_number')
    .limit(1)
    .getOne();
}

/** Drops the runs queued behind a task's current one (a cancel); returns how many. */
export async function dropQueuedRuns(manager: EntityManager, taskId: string, now: Date): Promise<number> {
  // TypeORM answers a bare UPDATE with [rows, count].
  const [, count]: [unknown[], number] = await manager.query(
    `UPDATE task_runs SET state = 'dropped', ended_at = $2 WHERE task_id = $1 AND state = 'queued'`,
    [taskId, now],
  );
  return count;
}

/** Sets a task's queued run count from its rows. */
export async function recountQueuedRuns(manager: EntityManager, taskId: string): Promise<void> {
  await manager.query(
    `UPDATE tasks SET queued_run_count = (SELECT count(*) FROM task_runs WHERE task_id = $1 AND state = 'queued')
      WHERE id = $1`,
    [taskId],
  );
}
