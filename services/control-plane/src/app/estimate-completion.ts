import type { EntityManager } from 'typeorm';
import { median } from '../domain/median.js';

/** How many of the latest completed executions of a type the estimate looks at. */
export const ESTIMATE_SAMPLE_SIZE = 20;

/**
 * When a run starting at `start` should end: `start` plus the median duration of the latest
 * completed executions of the same task type in the organisation; null without such history.
 * Runs in the caller's transaction (`manager`), through `executions_completed_by_type_idx`.
 */
export async function estimateCompletion(
  manager: EntityManager,
  orgId: string,
  taskType: string,
  start: Date,
): Promise<Date | null> {
  const rows: { duration_ms: number }[] = await manager.query(
    `SELECT duration_ms FROM executions
      WHERE org_id = $1 AND task_type = $2 AND status = 'Completed' AND duration_ms IS NOT NULL
      ORDER BY completed_at DESC
      LIMIT $3`,
    [orgId, taskType, ESTIMATE_SAMPLE_SIZE],
  );
  const typical = median(rows.map((row) => row.duration_ms));
  return typical === null ? null : new Date(start.getTime() + Math.round(typical));
}
