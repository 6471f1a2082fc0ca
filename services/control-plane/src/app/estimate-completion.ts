import type { EntityManager } from 'typeorm';
import { median } from '../domain/median.js';

/** How many of the latest completed executions of a type the estimate looks at. */
export const ESTIMATE_SAMPLE_SIZE = 20;

/** When a run of a task of `taskType` starting at `start` should end; null without history. */
export type CompletionEstimator = (
  manager: EntityManager,
  orgId: string,
  taskType: string,
  start: Date,
) => Promise<Date | null>;

/**
 * The median duration in milliseconds of the latest completed executions of the task type in the
 * organisation; null without such history. Runs in the caller's transaction (`manager`), through
 * `executions_completed_by_type_idx`.
 */
async function typicalDurationMs(
  manager: EntityManager,
  orgId: string,
  taskType: string,
): Promise<number | null> {
  const rows: { duration_ms: number }[] = await manager.query(
    `SELECT duration_ms FROM executions
      WHERE org_id = $1 AND task_type = $2 AND status = 'Completed' AND duration_ms IS NOT NULL
      ORDER BY completed_at DESC
      LIMIT $3`,
    [orgId, taskType, ESTIMATE_SAMPLE_SIZE],
  );
  return median(rows.map((row) => row.duration_ms));
}

const after = (start: Date, typical: number | null) =>
  typical === null ? null : new Date(start.getTime() + Math.round(typical));

/**
 * When a run starting at `start` should end: `start` plus the median duration of the latest
 * completed executions of the same task type in the organisation; null without such history.
 */
export const estimateCompletion: CompletionEstimator = async (manager, orgId, taskType, start) =>
  after(start, await typicalDurationMs(manager, orgId, taskType));

/**
 * The same estimate for the items of one bulk call: the history of each (organisation, task type)
 * is read once, by the first item of that type, instead of once per item (a query each, most of a
 * 100-item call's cost after the item's own writes). Each item still counts from its own start.
 */
export function estimatorForOneCall(): CompletionEstimator {
  const typical = new Map<string, Promise<number | null>>();
  return async (manager, orgId, taskType, start) => {
    const key = JSON.stringify([orgId, taskType]);
    let duration = typical.get(key);
    if (duration === undefined) {
      duration = typicalDurationMs(manager, orgId, taskType);
      typical.set(key, duration);
    }
    return after(start, await duration);
  };
}
