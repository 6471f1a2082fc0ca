import type { EntityManager } from 'typeorm';
import type { RecurringOccurrence } from '@meridian/contracts/api/recurring';
import { RecurringTaskEntity } from './entities/recurring-task.entity.js';

/** A task no longer runs nor waits to: an occurrence after it does not overlap it. */
export const FINISHED_TASK_STATUSES = ['Completed', 'Failed', 'Timeout', 'Cancelled'];

/**
 * Locks the recurring task due longest (next run at or before `now`), skipping rows another
 * replica holds, and those with overlap `queue` whose last task has not finished (they wait).
 */
export async function lockDueRecurringTask(
  manager: EntityManager,
  now: Date,
): Promise<RecurringTaskEntity | null> {
  return manager
    .getRepository(RecurringTaskEntity)
    .createQueryBuilder('recurring')
    .where('recurring.next_run_at <= :now', { now })
    .andWhere(
      `NOT (recurring.overlap = 'queue' AND EXISTS (SELECT 1 FROM tasks task
         WHERE task.id = recurring.last_task_id AND task.status NOT IN (:...finished)))`,
      { finished: FINISHED_TASK_STATUSES },
    )
    .orderBy('recurring.next_run_at')
    .limit(1)
    .setLock('pessimistic_write')
    .setOnLocked('skip_locked')
    .getOne();
}

/** Locks one recurring task of the organisation (waiting for another writer), or null. */
export async function lockRecurringTaskOfOrg(
  manager: EntityManager,
  orgId: string,
  id: string,
): Promise<RecurringTaskEntity | null> {
  return manager
    .getRepository(RecurringTaskEntity)
    .createQueryBuilder('recurring')
    .where('recurring.id = :id AND recurring.org_id = :orgId', { id, orgId })
    .setLock('pessimistic_write')
    .getOne();
}

/** True when the task exists and has not finished (a purged task has). */
export async function isTaskUnfinished(manager: EntityManager, taskId: string | null): Promise<boolean> {
  if (taskId === null) return false;
  const rows: unknown[] = await manager.query(
    `SELECT 1 FROM tasks WHERE id = $1 AND status <> ALL($2::text[])`,
    [taskId, FINISHED_TASK_STATUSES],
  );
  return rows.length > 0;
}

export interface NewOccurrence {
  recurringTaskId: string;
  orgId: string;
  scheduledFor: Date;
  firedAt: Date;
  manual: boolean;
  taskId: string | null;
  skipReason: string | null;
}

/**
 * Records occurrences, each once: those whose key (recurring task, scheduled time) exists already
 * are left alone. Returns the scheduled times inserted now (in ms): the caller creates a task only
 * for an occurrence it inserted, in the same transaction.
 */
export async function insertOccurrences(
  manager: EntityManager,
  occurrences: readonly NewOccurrence[],
): Promise<Set<number>> {
  if (occurrences.length === 0) return new Set();
  const rows: { scheduled_for: Date }[] = await manager.query(
    `INSERT INTO recurring_occurrences
       (recurring_task_id, org_id, scheduled_for, fired_at, manual, outcome, task_id, skip_reason)
     SELECT o.recurring_task_id, o.org_id, o.scheduled_for, o.fired_at, o.manual,
            CASE WHEN o.task_id IS NULL THEN 'skipped' ELSE 'created' END, o.task_id, o.skip_reason
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::boolean[], $6::uuid[], $7::text[])
         AS o (recurring_task_id, org_id, scheduled_for, fired_at, manual, task_id, skip_reason)
     ON CONFLICT (recurring_task_id, scheduled_for) DO NOTHING
     RETURNING scheduled_for`,
    [
      occurrences.map((o) => o.recurringTaskId),
      occurrences.map((o) => o.orgId),
      occurrences.map((o) => o.scheduledFor),
      occurrences.map((o) => o.firedAt),
      occurrences.map((o) => o.manual),
      occurrences.map((o) => o.taskId),
      occurrences.map((o) => o.skipReason),
    ],
  );
  return new Set(rows.map((row) => row.scheduled_for.getTime()));
}

interface OccurrenceRow {
  recurring_task_id: string;
  scheduled_for: Date;
  fired_at: Date;
  manual: boolean;
  outcome: 'created' | 'skipped';
  task_id: string | null;
  task_status: string | null;
  skip_reason: string | null;
}

/** The latest `limit` occurrences of each recurring task, newest first, with their tasks' status now. */
export async function recentOccurrences(
  manager: EntityManager,
  recurringTaskIds: readonly string[],
  limit: number,
): Promise<Map<string, RecurringOccurrence[]>> {
  const found = new Map<string, RecurringOccurrence[]>(recurringTaskIds.map((id) => [id, []]));
  if (recurringTaskIds.length === 0) return found;
  const rows: OccurrenceRow[] = await manager.query(
    `SELECT o.recurring_task_id, o.scheduled_for, o.fired_at, o.manual, o.outcome, o.task_id, o.skip_reason,
            task.status AS task_status
       FROM unnest($1::uuid[]) AS r (id)
       CROSS JOIN LATERAL (
         SELECT * FROM recurring_occurrences WHERE recurring_task_id = r.id
          ORDER BY scheduled_for DESC LIMIT $2) o
       LEFT JOIN tasks task ON task.id = o.task_id
      ORDER BY o.recurring_task_id, o.scheduled_for DESC`,
    [recurringTaskIds, limit],
  );
  for (const row of rows) {
    found.get(row.recurring_task_id)?.push({
      scheduledFor: row.scheduled_for.toISOString(),
      firedAt: row.fired_at.toISOString(),
      manual: row.manual,
      outcome: row.outcome,
      taskId: row.task_id,
      taskStatus: row.task_status,
      skipReason: row.skip_reason,
    });
  }
  return found;
}
