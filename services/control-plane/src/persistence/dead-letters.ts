import type { DeadLetter, DeadLetterSummary } from '@meridian/contracts/api/dead-letter';

/** A `dead_letters` row as `SELECT *` returns it. */
export interface DeadLetterRow {
  id: string;
  org_id: string | null;
  queue: string;
  reason: string;
  message_type: string | null;
  message_id: string | null;
  correlation_id: string | null;
  original_exchange: string;
  original_routing_key: string | null;
  headers: Record<string, unknown>;
  body: Buffer | null;
  body_size: number | null;
  body_truncated: boolean;
  dead_lettered_at: Date;
  recorded_at: Date;
  redriven_at: Date | null;
  redriven_by: string | null;
  sender: string | null;
}

/** Every column but the body and headers, for lists. */
export const SUMMARY_COLUMNS = `id, org_id, queue, reason, message_type, message_id, correlation_id, original_exchange,
  original_routing_key, body_size, body_truncated, dead_lettered_at, recorded_at, redriven_at, redriven_by, sender`;

export function toDeadLetterSummary(row: Omit<DeadLetterRow, 'headers' | 'body'>): DeadLetterSummary {
  return {
    id: row.id,
    orgId: row.org_id,
    queue: row.queue,
    reason: row.reason,
    messageType: row.message_type,
    messageId: row.message_id,
    correlationId: row.correlation_id,
    sender: row.sender,
    originalExchange: row.original_exchange,
    originalRoutingKey: row.original_routing_key,
    bodySize: row.body_size,
    bodyTruncated: row.body_truncated,
    deadLetteredAt: row.dead_lettered_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    redrivenAt: row.redriven_at ? row.redriven_at.toISOString() : null,
    redrivenBy: row.redriven_by,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function toDeadLetterDto(row: DeadLetterRow): DeadLetter {
  let body: string | null = null;
  let bodyEncoding: DeadLetter['bodyEncoding'] = 'utf8';
  if (row.body) {
    try {
      body = utf8.decode(row.body);
    } catch {
      body = row.body.toString('base64');
      bodyEncoding = 'base64';
    }
  }
  return { ...toDeadLetterSummary(row), headers: row.headers, body, bodyEncoding };
}
