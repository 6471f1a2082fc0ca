import type { Publisher } from 'rabbitmq-client';
import { LOG_LINES_STORED } from '@meridian/contracts/messages/log-lines-stored';
import { signCommand, type SigningKey } from '@meridian/contracts/security/command-signature';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { isCommandType } from './returned-commands.js';

interface OutboxRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  type: string;
  body: { payload?: { executionId?: string; taskId?: string } } & Record<string, unknown>;
  /** Set instead of `body` for a message published byte for byte (a re-driven dead letter). */
  body_bytes: Buffer | null;
  /** The AMQP message-id when it is not the row's own (a re-driven message keeps its original). */
  amqp_message_id: string | null;
  correlation_id: string;
  attempts: number;
  /** Extra AMQP headers (a re-driven message's signed original sender). */
  headers: Record<string, string> | null;
}

/** How the relay signs the commands it publishes (ExecuteTask, CancelTask). */
export interface CommandSigning {
  key: SigningKey;
  /** COMMAND_TTL_SECONDS: an agent refuses the command this long after it was published. */
  ttlSeconds: number;
  now: () => Date;
}

export interface ReturnedCommand {
  messageId: string;
  type: string;
  routingKey: string;
  body: OutboxRow['body'];
}

export interface RelayOptions {
  batchSize: number;
  /**
   * A publish the broker has not confirmed within this time counts as failed, so that a pass never
   * holds its rows locked for long. The broker may still take it later: delivery is at least once.
   */
  publishTimeoutMs: number;
  /** The wait before a row that has now failed `failures` times is published again. */
  retryDelayMs: (failures: number) => number;
  commandSigning: CommandSigning;
  logger: Logger;
}

export interface RelayResult {
  /** Rows the broker confirmed, now marked sent (or deleted, for live-log notifications). */
  published: number;
  /** Rows left unsent, each due again after its backoff. */
  failed: number;
  /** The shortest of those backoffs, when `failed` > 0: when it is worth passing again. */
  retryInMs?: number;
  /** Commands the broker confirmed but returned as unroutable (`mandatory`): not delivered. */
  returned: ReturnedCommand[];
}

/** The longest `last_error` kept: enough for the broker's reply text, never a message body. */
const MAX_ERROR_LENGTH = 500;

/**
 * Publishes committed outbox rows; a row is marked sent only once the broker has confirmed it.
 *
 * One transaction per pass: claim the due unsent rows with `FOR UPDATE SKIP LOCKED` (the relays of
 * several replicas, and several passes of one, share the table without sending a row twice at
 * once), publish them all with publisher confirms, then in the same transaction mark the confirmed
 * ones sent and give each failed or unconfirmed one attempts + 1, its error and a `next_attempt_at`
 * from the backoff. The claim skips rows not yet due. One failure does not hold back the rows
 * confirmed beside it. If the process dies before the commit, the rows stay unsent and go out
 * again: delivery is at least once, and consumers dedupe by messageId.
 *
 * Every command is signed just before it is published, over the very bytes published (so a
 * retried row is signed again, with a fresh expiry): see `commandHeaders`.
 *
 * Messages the broker returns as unroutable (`mandatory`) come back through `returned` (filled by
 * the publisher's `basic.return` listener) and are handed back: they were not delivered. Live-log
 * notifications, once confirmed, are deleted rather than kept for the retention period.
 */
export async function relayOutboxBatch(
  dataSource: DataSource,
  publisher: Publisher,
  returned: Map<string, ReturnedCommand>,
  options: RelayOptions,
): Promise<RelayResult> {
  return dataSource.transaction(async (manager) => {
    const rows: OutboxRow[] = await manager.query(
      `SELECT id, message_id, exchange, routing_key, type, body, body_bytes, amqp_message_id, correlation_id, attempts,
              headers
         FROM outbox
        WHERE published_at IS NULL AND next_attempt_at <= now()
        ORDER BY id
        LIMIT $1
          FOR UPDATE SKIP LOCKED`,
      [options.batchSize],
    );
    if (rows.length === 0) return { published: 0, failed: 0, returned: [] };

    const outcomes = await Promise.allSettled(
      rows.map((row) =>
        withTimeout(publish(publisher, row, options.commandSigning), options.publishTimeoutMs),
      ),
    );
    const confirmed = rows.filter((_, index) => outcomes[index]?.status === 'fulfilled');
    const failed = rows.flatMap((row, index) => {
      const outcome = outcomes[index];
      return outcome?.status === 'rejected' ? [{ row, error: outcome.reason as unknown }] : [];
    });

    await markSent(manager, confirmed);
    const retryInMs = await scheduleRetries(manager, failed, options);
    if (failed.length > 0) {
      options.logger.warn(
        {
          err: failed[0]?.error,
          failed: failed.length,
          confirmed: confirmed.length,
          retryInMs,
        },
        'outbox publish not confirmed; the rows stay unsent and are retried',
      );
    }

    // rabbitmq-client emits basic.return on setImmediate, after the confirms may have resolved.
    await new Promise((resolve) => setImmediate(resolve));
    const bounced = confirmed.flatMap((row) => {
      const hit = returned.get(row.message_id);
      return hit ? [hit] : [];
    });
    for (const row of rows) returned.delete(row.message_id);
    return {
      published: confirmed.length,
      failed: failed.length,
      ...(retryInMs === undefined ? {} : { retryInMs }),
      returned: bounced,
    };
  });
}

function publish(publisher: Publisher, row: OutboxRow, signing: CommandSigning): Promise<void> {
  // Encoded here rather than by the client: a command's signature covers these exact bytes.
  const body = row.body_bytes ?? Buffer.from(JSON.stringify(row.body), 'utf8');
  const headers = {
    ...(row.headers ?? {}),
    ...(isCommandType(row.type) ? commandHeaders(row, body, signing) : {}),
  };
  return publisher.send(
    {
      exchange: row.exchange,
      routingKey: row.routing_key,
      messageId: row.amqp_message_id ?? row.message_id,
      type: row.type,
      correlationId: row.correlation_id,
      contentType: 'application/json',
      durable: true,
      mandatory: true,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    },
    body,
  );
}

/**
 * The signature headers of a command (protocol version 2): issued now, valid for the TTL, naming
 * the node and execution its body names, over the body's bytes as published. A version-1 agent
 * ignores them.
 */
function commandHeaders(row: OutboxRow, body: Buffer, signing: CommandSigning): Record<string, string> {
  const issuedAt = signing.now();
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return signCommand(
    signing.key,
    {
      issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + signing.ttlSeconds * 1000).toISOString(),
      messageId: text(row.body['messageId']) || (row.amqp_message_id ?? row.message_id),
      type: row.type,
      nodeId: text(row.body['nodeId']),
      executionId: text(row.body.payload?.executionId),
    },
    body,
  );
}

async function markSent(manager: EntityManager, rows: readonly OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  // Live-log notifications are only for viewers connected now, and carry whole log output: once
  // sent they are deleted rather than kept for the retention period like commands.
  const ephemeral = rows.filter((row) => row.type === LOG_LINES_STORED).map((row) => row.id);
  const kept = rows.filter((row) => row.type !== LOG_LINES_STORED).map((row) => row.id);
  if (kept.length > 0) {
    await manager.query(
      `UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])`,
      [kept],
    );
  }
  if (ephemeral.length > 0) {
    await manager.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ephemeral]);
  }
}

/** Records each failure and when to try again; returns the shortest wait. */
async function scheduleRetries(
  manager: EntityManager,
  failed: readonly { row: OutboxRow; error: unknown }[],
  options: RelayOptions,
): Promise<number | undefined> {
  if (failed.length === 0) return undefined;
  const delays = failed.map(({ row }) => Math.max(0, Math.round(options.retryDelayMs(row.attempts + 1))));
  // clock_timestamp(), not now(): the wait counts from the failure, not from the claim.
  await manager.query(
    `UPDATE outbox o
        SET attempts = o.attempts + 1,
            last_error = f.error,
            next_attempt_at = clock_timestamp() + f.delay_ms * interval '1 millisecond'
       FROM unnest($1::bigint[], $2::integer[], $3::text[]) AS f(id, delay_ms, error)
      WHERE o.id = f.id`,
    [failed.map(({ row }) => row.id), delays, failed.map(({ error }) => describeError(error))],
  );
  return Math.min(...delays);
}

function describeError(error: unknown): string {
  // rabbitmq-client's errors carry the AMQP reply code (NACK, NOT_FOUND, CH_CLOSE…) in `code`.
  const code = (error as { code?: unknown } | null)?.code;
  const text =
    error instanceof Error
      ? `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}`
      : String(error);
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

class PublishTimeoutError extends Error {
  override name = 'PublishTimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PublishTimeoutError(`no confirm from the broker within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
