import type { EntityManager } from 'typeorm';
import { WriteBatch, type SqlPart } from './write-batch.js';

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
 * The INSERT of messages for the relay; run it with OUTBOX_CHANNEL notified, in the change's
 * transaction. A message whose id is already in the outbox is not queued again (once-only commands).
 */
export function outboxPart(messages: readonly NewOutboxMessage[]): SqlPart | null {
  if (messages.length === 0) return null;
  return {
    sql: `INSERT INTO outbox (message_id, exchange, routing_key, type, body, correlation_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[])
     ON CONFLICT (message_id) DO NOTHING`,
    params: [
      messages.map((m) => m.messageId),
      messages.map((m) => m.exchange),
      messages.map((m) => m.routingKey),
      messages.map((m) => m.type),
      messages.map((m) => JSON.stringify(m.body)),
      messages.map((m) => m.correlationId),
    ],
  };
}

/**
 * Queues messages for the relay in the caller's transaction and wakes the relays of every
 * replica when it commits (NOTIFY is delivered on commit only).
 */
export async function enqueueOutboxMessages(
  manager: EntityManager,
  messages: readonly NewOutboxMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  await new WriteBatch().add(outboxPart(messages)).notify(OUTBOX_CHANNEL).run(manager);
}

/** Tells every replica's dispatcher, on commit, that a task may be dispatched or a slot freed. */
export async function notifyDispatchers(manager: EntityManager): Promise<void> {
  await new WriteBatch().notify(DISPATCH_CHANNEL).run(manager);
}
