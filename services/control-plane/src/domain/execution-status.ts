import type { ExecutionStatus } from '@meridian/contracts/api/execution';

const FINISHED: ReadonlySet<ExecutionStatus> = new Set(['Completed', 'Failed', 'Timeout', 'Cancelled']);

/** A finished execution no longer holds a slot on its node and takes no more reports. */
export function isExecutionFinished(status: ExecutionStatus): boolean {
  return FINISHED.has(status);
}
