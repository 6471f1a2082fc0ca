import type { DeadLetterFilter } from '@meridian/contracts/api/dead-letter';
import type { Actor } from '../actor.js';

/**
 * A token with this permission besides `admin:dead-letters` also sees (and re-drives) the dead
 * letters that name no organisation: garbage, unknown senders, bodies too large to read. Those may
 * come from anyone, so an organisation's administrators do not see them.
 */
export const PLATFORM_DEAD_LETTERS_PERMISSION = 'platform:dead-letters';

/** A WHERE clause on `dead_letters` with its parameters, numbered from `$1`. */
export interface Condition {
  sql: string;
  params: unknown[];
}

/** The dead letters the caller may see, narrowed by `filter`. */
export function visibleDeadLetters(
  actor: Actor,
  filter: DeadLetterFilter & { redriven?: boolean },
): Condition {
  const params: unknown[] = [actor.orgId];
  const clauses = [
    actor.permissions.has(PLATFORM_DEAD_LETTERS_PERMISSION)
      ? '(org_id = $1 OR org_id IS NULL)'
      : 'org_id = $1',
  ];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.queue !== undefined) add('queue = ?', filter.queue);
  if (filter.type !== undefined) add('message_type = ?', filter.type);
  if (filter.from !== undefined) add('dead_lettered_at >= ?::timestamptz', filter.from);
  if (filter.to !== undefined) add('dead_lettered_at < ?::timestamptz', filter.to);
  if (filter.redriven !== undefined)
    clauses.push(filter.redriven ? 'redriven_at IS NOT NULL' : 'redriven_at IS NULL');
  return { sql: clauses.join(' AND '), params };
}
