import type { EntityManager } from 'typeorm';

export interface NewOutboxMessage {
  messageId: string;
  exchange: string;
  routingKey: string;
  type: string;
  body: unknown;
  correlationId: string;
}

export const OUTBOX_CHANNEL = 'meridian_outbox';
export const DISPATCH_CHANNEL = 'meridian_dispatch';

/**
 * Queues messages for the relay in the caller's transaction and wakes the relays of every
 * replica when it commits (NOTIFY is delivered on commit only).
 */
export async function enqueueOutboxMessages(
  manager: EntityManager,
  messages: readonly NewOutboxMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  await manager.query(
    `INSERT INTO outbox (message_id, exchange, routing_key, type, body, correlation_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[])`,
    [
      messages.map((m) => m.messageId),
      messages.map((m) => m.exchange),
      messages.map((m) => m.routingKey),
      messages.map((m) => m.type),
      messages.map((m) => JSON.stringify(m.body)),
      messages.map((m) => m.correlationId),
    ],
  );
  await manager.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
}

/** Tells every replica's dispatcher, on commit, that a task may be dispatched or a slot freed. */
export async function notifyDispatchers(manager: EntityManager): Promise<void> {
  await manager.query(`SELECT pg_notify($1, '')`, [DISPATCH_CHANNEL]);
}
