import type { DeadLetter, DeadLetterList, ListDeadLettersQuery } from '@meridian/contracts/api/dead-letter';
import { NotFoundError } from '../../domain/errors.js';
import {
  SUMMARY_COLUMNS,
  toDeadLetterDto,
  toDeadLetterSummary,
  type DeadLetterRow,
} from '../../persistence/dead-letters.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { visibleDeadLetters } from './dead-letter-scope.js';

/** One page of the dead letters the caller may see, newest first unless `order=asc`. */
export async function listDeadLetters(
  deps: AppDeps,
  actor: Actor,
  query: ListDeadLettersQuery,
): Promise<DeadLetterList> {
  const where = visibleDeadLetters(actor, query);
  const direction = query.order === 'asc' ? 'ASC' : 'DESC';
  const n = where.params.length;
  const rows = await deps.dataSource.query<(DeadLetterRow & { total: string })[]>(
    `SELECT ${SUMMARY_COLUMNS}, count(*) OVER () AS total FROM dead_letters WHERE ${where.sql}
      ORDER BY dead_lettered_at ${direction}, id ${direction} LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...where.params, query.limit, (query.page - 1) * query.limit],
  );
  let total = rows.length > 0 ? Number(rows[0]!.total) : 0;
  if (rows.length === 0 && query.page > 1) {
    const [count] = await deps.dataSource.query<{ total: string }[]>(
      `SELECT count(*) AS total FROM dead_letters WHERE ${where.sql}`,
      where.params,
    );
    total = Number(count!.total);
  }
  return { items: rows.map(toDeadLetterSummary), page: query.page, limit: query.limit, total };
}

/** One dead letter with its headers and body; another organisation's is "not found". */
export async function getDeadLetter(deps: AppDeps, actor: Actor, id: string): Promise<DeadLetter> {
  const where = visibleDeadLetters(actor, {});
  const [row] = await deps.dataSource.query<DeadLetterRow[]>(
    `SELECT * FROM dead_letters WHERE id = $${where.params.length + 1} AND ${where.sql}`,
    [...where.params, id],
  );
  if (!row) throw new NotFoundError('dead letter', id);
  return toDeadLetterDto(row);
}
