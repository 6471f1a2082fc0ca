import { DomainError } from './errors.js';
import { windowWords, type RateLimitExceeded } from './rate-limit-policy.js';

/** A call refused by a rate limit (429); nothing of it was counted or done. */
export class RateLimitedError extends DomainError<'rate_limited'> {
  readonly limitName: RateLimitExceeded['name'];
  readonly limit: number;
  readonly windowSeconds: number;
  readonly retryAfterSeconds: number;

  constructor(readonly exceeded: RateLimitExceeded) {
    super('rate_limited', describeExceeded(exceeded));
    this.name = 'RateLimitedError';
    this.limitName = exceeded.name;
    this.limit = exceeded.limit;
    this.windowSeconds = exceeded.windowSeconds;
    this.retryAfterSeconds = exceeded.retryAfterSeconds;
  }
}

/** "per-task trigger limit of 100 per hour reached for task 7f…": what the 429's detail says. */
function describeExceeded(exceeded: RateLimitExceeded): string {
  const { name, limit, windowSeconds, taskId, requested } = exceeded;
  const task = taskId === undefined ? '' : ` for task ${taskId}`;
  const reached = `${name} trigger limit of ${limit} ${windowWords(windowSeconds)} reached${task}`;
  return requested > limit
    ? `${reached}: this call counts ${requested}, more than the limit allows`
    : reached;
}
