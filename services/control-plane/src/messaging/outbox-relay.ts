import type { Publisher } from 'rabbitmq-client';
import { LOG_LINES_STORED } from '@meridian/contracts/messages/log-lines-stored';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';

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
}

export interface ReturnedCommand {
  messageId: string;
  type: string;
  routingKey: string;
  body: OutboxRow['body'];
}

/**
 * Marks committed outbox rows sent and publishes them with publisher confirms before the
 * transaction commits, all while the rows are locked (SKIP LOCKED lets the relays of several replicas share the table). A publish
 * that fails clears the mark again: the rows stay and are sent again later, so delivery is at
 * least once and consumers dedupe by messageId. Messages the broker returns as unroutable
 * (`mandatory`) come back through `returned` and are handed back: they were not delivered.
 */
export async function relayOutboxBatch(
  dataSource: DataSource,
  publisher: Publisher,
  returned: Map<string, ReturnedCommand>,
  batchSize: number,
  logger: Logger,
): Promise<{ published: number; returned: ReturnedCommand[] }> {
  return dataSource.transaction(async (manager) => {
    const rows: OutboxRow[] = await manager.query(
      // Wrapped in a SELECT: TypeORM returns [rows, count] for a bare UPDATE … RETURNING.
      `WITH sent AS (
         UPDATE outbox SET published_at = now(), attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id, message_id, exchange, routing_key, type, body, body_bytes, amqp_message_id, correlation_id)
       SELECT * FROM sent ORDER BY id`,
      [batchSize],
    );
    if (rows.length === 0) return { published: 0, returned: [] };
    try {
      await Promise.all(
        rows.map((row) =>
          publisher.send(
            {
              exchange: row.exchange,
              routingKey: row.routing_key,
              messageId: row.amqp_message_id ?? row.message_id,
              type: row.type,
              correlationId: row.correlation_id,
              contentType: 'application/json',
              durable: true,
              mandatory: true,
            },
            row.body_bytes ?? row.body,
          ),
        ),
      );
    } catch (error) {
      await manager.query(
        `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
        [rows.map((row) => row.id), String(error)],
      );
      logger.warn({ err: error, count: rows.length }, 'outbox publish failed; will retry');
      return { published: 0, returned: [] };
    }
    await manager.query(
      `UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])`,
      [rows.map((row) => row.id)],
    );
    // rabbitmq-client emits basic.return on setImmediate, after the confirms may have resolved.
    await new Promise((resolve) => setImmediate(resolve));
    // Live-log notifications are only for viewers connected now, and carry whole log output: once
    // sent they are deleted rather than kept for the retention period like commands.
    const ephemeral = rows.filter((row) => row.type === LOG_LINES_STORED).map((row) => row.id);
    if (ephemeral.length > 0) {
      await manager.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ephemeral]);
    }
    const bounced = rows.flatMap((row) => {
      const hit = returned.get(row.message_id);
      returned.delete(row.message_id);
      return hit ? [hit] : [];
    });
    return { published: rows.length, returned: bounced };
  });
}
