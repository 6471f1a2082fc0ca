import type { BulkItemResult, BulkResult } from '@meridian/contracts/api/task-run';
import type { BulkOutcome } from '../../app/bulk/apply-bulk.js';
import { mapError } from '../error-handler.js';

/** What an applied item adds to its result (`executionId`, `nextRunAt`, …). */
export type ItemFields = Omit<BulkItemResult, 'index' | 'taskId' | 'status' | 'problem'>;

/**
 * The answer of a bulk call: each item with the status the single call would have answered and,
 * when it failed, that call's problem; items an all-or-nothing rollback undid answer 424.
 */
export function toBulkResult<T>(
  outcome: BulkOutcome<T>,
  allOrNothing: boolean,
  successStatus: number,
  fieldsOf: (value: T) => ItemFields,
): BulkResult {
  const failedItems = outcome.items.filter((item) => !item.ok).map((item) => item.index);
  const results = outcome.items.map((item): BulkItemResult => {
    if (!item.ok) {
      const { problem } = mapError(item.error);
      return { index: item.index, taskId: item.taskId, status: problem.status, problem };
    }
    if (!outcome.applied) {
      return {
        index: item.index,
        taskId: item.taskId,
        status: 424,
        problem: {
          type: '/problems/not-applied',
          title: 'Not applied',
          status: 424,
          detail: `rolled back with the whole batch (allOrNothing) because item(s) ${failedItems.join(', ')} failed`,
        },
      };
    }
    return { index: item.index, taskId: item.taskId, status: successStatus, ...fieldsOf(item.value) };
  });
  const succeeded = outcome.applied ? results.length - failedItems.length : 0;
  return {
    allOrNothing,
    applied: outcome.applied,
    succeeded,
    failed: results.length - succeeded,
    failedItems,
    results,
  };
}
