import { randomUUID } from 'node:crypto';
import type {
  BulkRedriveBody,
  BulkRedriveResult,
  DeadLetterSummary,
  RedriveOutcome,
} from '@meridian/contracts/api/dead-letter';
import type { EntityManager } from 'typeorm';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { SUMMARY_COLUMNS, toDeadLetterSummary, type DeadLetterRow } from '../../persistence/dead-letters.js';
import { OUTBOX_CHANNEL } from '../../persistence/outbox.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import { bodyAsConsumersReadIt, originalSenderHeaders } from '../../security/original-sender.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { visibleDeadLetters, type Condition } from './dead-letter-scope.js';

type RedriveRow = Omit<DeadLetterRow, 'headers'>;

const COLUMNS = `${SUMMARY_COLUMNS}, body`;

const CONFLICTS: Record<Exclude<RedriveOutcome, 'redriven' | 'not_found'>, string> = {
  already_redriven: 'was re-driven already; if it failed again it landed as a new dead letter',
  body_unavailable: 'cannot be re-driven: only the first bytes of its body (or none) were kept',
};

/**
 * Puts one dead letter back: its body, byte for byte and under its own messageId (so consumers'
 * dedupe still holds), goes to the outbox for the exchange its queue's consumers read, in the
 * transaction that marks the row re-driven. Returns the row as it now is.
 */
export async function redriveDeadLetter(deps: AppDeps, actor: Actor, id: string): Promise<DeadLetterSummary> {
  return deps.dataSource.transaction(async (manager) => {
    const where = visibleDeadLetters(actor, {});
    const [row] = await manager.query<RedriveRow[]>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE id = $${where.params.length + 1} AND ${where.sql} FOR UPDATE`,
      [...where.params, id],
    );
    if (!row) throw new NotFoundError('dead letter', id);
    const outcome = redriveOutcomeOf(row);
    if (outcome !== 'redriven') throw new ConflictError(`dead letter ${id} ${CONFLICTS[outcome]}`);
    const redrivenAt = deps.clock.now();
    await writeRedrive(deps, manager, [row], actor, redrivenAt);
    return toDeadLetterSummary({ ...row, redriven_at: redrivenAt, redriven_by: redrivenBy(actor) });
  });
}

/**
 * Re-drives up to REDRIVE_MAX_COUNT dead letters in one transaction: those named by `ids` (each
 * with its outcome; others' are `not_found`), or the oldest `limit` not yet re-driven that match
 * `filter` and can be (rows locked by a concurrent re-drive are skipped).
 */
export async function redriveDeadLetters(
  deps: AppDeps,
  actor: Actor,
  body: BulkRedriveBody,
): Promise<BulkRedriveResult> {
  return deps.dataSource.transaction(async (manager) => {
    const rows =
      'ids' in body ? await lockByIds(manager, actor, body.ids) : await lockByFilter(manager, actor, body);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const ids = 'ids' in body ? [...new Set(body.ids)] : rows.map((row) => row.id);
    const results = ids.map((id) => {
      const row = byId.get(id);
      return { id, outcome: row ? redriveOutcomeOf(row) : ('not_found' as const) };
    });
    const chosen = rows.filter((row) => redriveOutcomeOf(row) === 'redriven');
    await writeRedrive(deps, manager, chosen, actor, deps.clock.now());
    return { redriven: chosen.length, results };
  });
}

function lockByIds(manager: EntityManager, actor: Actor, ids: string[]): Promise<RedriveRow[]> {
  const where = visibleDeadLetters(actor, {});
  return manager.query<RedriveRow[]>(
    `SELECT ${COLUMNS} FROM dead_letters WHERE id = ANY($${where.params.length + 1}::uuid[]) AND ${where.sql}
      ORDER BY id FOR UPDATE`,
    [...where.params, ids],
  );
}

function lockByFilter(
  manager: EntityManager,
  actor: Actor,
  body: Extract<BulkRedriveBody, { filter: unknown }>,
): Promise<RedriveRow[]> {
  const where: Condition = visibleDeadLetters(actor, { ...body.filter, redriven: false });
  return manager.query<RedriveRow[]>(
    `SELECT ${COLUMNS} FROM dead_letters
      WHERE ${where.sql} AND body IS NOT NULL AND NOT body_truncated
      ORDER BY dead_lettered_at, id LIMIT $${where.params.length + 1} FOR UPDATE SKIP LOCKED`,
    [...where.params, body.limit],
  );
}

function redriveOutcomeOf(row: RedriveRow): Exclude<RedriveOutcome, 'not_found'> {
  if (row.redriven_at !== null) return 'already_redriven';
  if (row.body === null || row.body_truncated) return 'body_unavailable';
  return 'redriven';
}

function redrivenBy(actor: Actor): string {
  return `user:${actor.userId}`;
}

/**
 * The outbox rows (raw bodies, original message ids) and the rows' mark, as one statement. A
 * message that had a sender goes out with it in headers signed by the keyring: consumers hear it
 * as from that sender again, neither more nor less trusted than the first time.
 */
async function writeRedrive(
  deps: AppDeps,
  manager: EntityManager,
  rows: readonly RedriveRow[],
  actor: Actor,
  at: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const outboxIds = rows.map(() => randomUUID());
  const headers = rows.map((row, index) =>
    row.sender && row.body
      ? JSON.stringify(
          // Signed for the AMQP message id the relay publishes it with.
          originalSenderHeaders(
            deps.keyring.signing,
            row.sender,
            row.message_id ?? outboxIds[index]!,
            bodyAsConsumersReadIt(row.body),
          ),
        )
      : null,
  );
  await new WriteBatch()
    .add({
      sql: `INSERT INTO outbox (message_id, amqp_message_id, exchange, routing_key, type, body_bytes, correlation_id,
                                headers)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[],
                                 $8::jsonb[])`,
      params: [
        outboxIds,
        rows.map((row) => row.message_id),
        rows.map((row) => row.original_exchange),
        rows.map((row) => row.original_routing_key ?? ''),
        rows.map((row) => row.message_type ?? ''),
        rows.map((row) => row.body),
        rows.map((row) => row.correlation_id ?? actor.correlationId),
        headers,
      ],
    })
    .add({
      sql: `UPDATE dead_letters SET redriven_at = $2, redriven_by = $3 WHERE id = ANY($1::uuid[])`,
      params: [rows.map((row) => row.id), at, redrivenBy(actor)],
    })
    .notify(OUTBOX_CHANNEL)
    .run(manager);
}
