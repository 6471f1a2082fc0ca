import type { NewTaskEvent } from '../persistence/task-event.writes.js';

/**
 * `MaxRetriesReached`: a retryable failure (an agent's report, a timeout, a lost node) found its
 * task's automatic retries used up, so the task ends instead of being retried.
 */
export function maxRetriesReachedEvent(
  task: { retryCount: number; maxRetries: number },
  base: Omit<NewTaskEvent, 'type' | 'data'>,
  cause: string,
): NewTaskEvent {
  return {
    ...base,
    type: 'MaxRetriesReached',
    fromStatus: null,
    toStatus: null,
    data: { retriesUsed: task.retryCount, maxRetries: task.maxRetries, cause },
  };
}
