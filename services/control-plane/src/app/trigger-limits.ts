import { decideRateLimit, triggerLimitCharges, type RateLimitStatus } from '../domain/rate-limit-policy.js';
import { RateLimitedError } from '../domain/rate-limited-error.js';
import { addRateLimitHits } from '../persistence/rate-limit-windows.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

export type { RateLimitStatus };

/**
 * Counts a trigger, execute or reschedule call against seed 000's limits (deps.triggerLimits):
 * `taskIds` holds one id per item (a single call: one; a bulk call: one per item, repeats allowed).
 * All four limits count the call or none does: when any would be exceeded the transaction rolls
 * back and `RateLimitedError` names the limit. Returns the header values of the tightest limit.
 *
 * Its own short transaction, on purpose: the counter rows it locks are shared by every caller
 * (the system row by all of them), so they are held for one statement and a commit, never for the
 * work the call then does. Call it before opening the work's transaction (not inside it: that
 * would hold two pool connections at once).
 */
export async function consumeTriggerLimits(
  deps: AppDeps,
  actor: Actor,
  taskIds: readonly string[],
): Promise<RateLimitStatus> {
  if (taskIds.length === 0) throw new Error('a call to count needs at least one task');
  const now = deps.clock.now();
  const charges = triggerLimitCharges(deps.triggerLimits, actor, taskIds, now);
  return deps.dataSource.transaction(async (manager) => {
    // The commit need not wait for the WAL flush: the shared counter rows are unlocked sooner,
    // and a crash can lose at most the last fraction of a second of counts (a few calls uncounted).
    await manager.query('SET LOCAL synchronous_commit = off');
    const decision = decideRateLimit(charges, await addRateLimitHits(manager, charges), now);
    if (!decision.allowed) throw new RateLimitedError(decision.exceeded);
    return decision.status;
  });
}
