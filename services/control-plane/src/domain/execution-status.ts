import type { ExecutionStatus } from '@meridian/contracts/api/execution';

const FINISHED: ReadonlySet<ExecutionStatus> = new Set([
  'Completed',
  'Failed',
  'Timeout',
  'Cancelled',
  'AgentLost',
]);

/** A finished execution no longer holds a slot on its node and takes no more reports. */
export function isExecutionFinished(status: ExecutionStatus): boolean {
  return FINISHED.has(status);
}

/**
 * Ended without the agent's end report having been applied: its node was lost, or its deadline
 * passed. The agent may still be running it, and should be told to stop.
 */
export function isGivenUp(status: ExecutionStatus): boolean {
  return status === 'AgentLost' || status === 'Timeout';
}
