import type { EntityManager } from 'typeorm';
import { WriteBatch, type SqlPart } from './write-batch.js';

export interface NewTaskEvent {
  orgId: string;
  taskId: string;
  executionId?: string | null;
  type: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  actor: string;
  correlationId: string;
  messageId?: string | null;
  data?: Record<string, unknown>;
  occurredAt: Date;
}

/** The INSERT of a batch of audit events, to run with the change it records. */
export function taskEventsPart(events: readonly NewTaskEvent[]): SqlPart | null {
  if (events.length === 0) return null;
  return {
    sql: `INSERT INTO task_events
       (org_id, task_id, execution_id, type, from_status, to_status, actor, correlation_id, message_id, data, occurred_at)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                          $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[])`,
    params: [
      events.map((e) => e.orgId),
      events.map((e) => e.taskId),
      events.map((e) => e.executionId ?? null),
      events.map((e) => e.type),
      events.map((e) => e.fromStatus ?? null),
      events.map((e) => e.toStatus ?? null),
      events.map((e) => e.actor),
      events.map((e) => e.correlationId),
      events.map((e) => e.messageId ?? null),
      events.map((e) => JSON.stringify(e.data ?? {})),
      events.map((e) => e.occurredAt.toISOString()),
    ],
  };
}

/** Appends audit events in one statement; call it inside the transaction that made the change. */
export async function appendTaskEvents(
  manager: EntityManager,
  events: readonly NewTaskEvent[],
): Promise<void> {
  await new WriteBatch().add(taskEventsPart(events)).run(manager);
}
