import { randomUUID } from 'node:crypto';
import type { DeadLetterRecord } from '../../domain/dead-letter-record.js';
import type { AppDeps } from '../app-deps.js';

/**
 * Stores one dead letter, with its sender and an organisation: that of its sender when the sender
 * is an enrolled node's broker user (a forgery is its forger's organisation's business), else that
 * of the execution, task or node it names (in the database, so a sender cannot claim another
 * organisation's message), else the `orgId` of its payload (heartbeats), else none. One
 * statement; returns the new row's id.
 */
export async function recordDeadLetter(deps: AppDeps, record: DeadLetterRecord): Promise<string> {
  const id = randomUUID();
  const ref = record.orgReference;
  await deps.dataSource.query(
    `INSERT INTO dead_letters (id, org_id, queue, reason, message_type, message_id, correlation_id,
       original_exchange, original_routing_key, headers, body, body_size, body_truncated, dead_lettered_at,
       sender)
     VALUES ($1, COALESCE(
              (SELECT org_id FROM node_credentials WHERE broker_username = $18::text),
              (SELECT org_id FROM executions WHERE id = $14::uuid),
              (SELECT org_id FROM tasks WHERE id = $15::uuid),
              (SELECT org_id FROM nodes WHERE id = $16::text),
              $17::text),
            $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::bytea, $11::integer, $12, $13::timestamptz, $18::text)`,
    [
      id,
      record.queue,
      record.reason,
      record.messageType,
      record.messageId,
      record.correlationId,
      record.originalExchange,
      record.originalRoutingKey,
      JSON.stringify(record.headers),
      record.body,
      record.bodySize,
      record.bodyTruncated,
      record.deadLetteredAt,
      ref.executionId,
      ref.taskId,
      ref.nodeId,
      ref.payloadOrgId,
      record.sender,
    ],
  );
  return id;
}
