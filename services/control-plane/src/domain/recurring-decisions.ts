import type { MisfirePolicy, OverlapPolicy } from '@meridian/contracts/api/recurring';
import { assertNever } from './assert-never.js';
import type { DueOccurrences } from './recurring-schedule.js';

export interface MisfireDecision {
  /** Occurrences to fire, oldest first (each still subject to the overlap policy). */
  fire: Date[];
  /** Missed occurrences recorded as skipped (`misfire`). */
  skip: Date[];
}

/**
 * Which due occurrences fire. On-time ones always do. Missed ones: `skip` fires none of them;
 * `fire-once` fires one for all of them (the latest), or none when an on-time one fires anyway;
 * `fire-all` fires each (the latest FIRE_ALL_LIMIT, dueOccurrences bounds them).
 */
export function decideMisfire(due: DueOccurrences, policy: MisfirePolicy): MisfireDecision {
  const { onTime, missed } = due;
  switch (policy) {
    case 'skip':
      return { fire: onTime, skip: missed };
    case 'fire-once': {
      if (onTime.length > 0 || missed.length === 0) return { fire: onTime, skip: missed };
      return { fire: [missed.at(-1)!], skip: missed.slice(0, -1) };
    }
    case 'fire-all':
      return { fire: [...missed, ...onTime], skip: [] };
    default:
      return assertNever(policy);
  }
}

export type OverlapDecision = 'fire' | 'skip' | 'wait';

/**
 * What an occurrence does while the task of the previous one has not finished: `skip` records it
 * as skipped and moves on, `allow` fires it, `queue` waits (the occurrence stays due, and fires
 * once that task has finished).
 */
export function decideOverlap(policy: OverlapPolicy, previousUnfinished: boolean): OverlapDecision {
  if (!previousUnfinished) return 'fire';
  switch (policy) {
    case 'skip':
      return 'skip';
    case 'allow':
      return 'fire';
    case 'queue':
      return 'wait';
    default:
      return assertNever(policy);
  }
}
