import type { EntityManager } from 'typeorm';

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

/**
 * The INSERT of a batch of events as SQL text whose parameters start at `$firstParam`, so that it
 * can stand alone or inside a larger statement (a CTE) that commits with the change it records.
 */
export function taskEventsInsert(
  events: readonly NewTaskEvent[],
  firstParam = 1,
): { sql: string; params: unknown[] } {
  const p = (offset: number) => `$${firstParam + offset}`;
  return {
    sql: `INSERT INTO task_events
       (org_id, task_id, execution_id, type, from_status, to_status, actor, correlation_id, message_id, data, occurred_at)
     SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::uuid[], ${p(2)}::uuid[], ${p(3)}::text[], ${p(4)}::text[],
                          ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::text[], ${p(8)}::text[], ${p(9)}::jsonb[],
                          ${p(10)}::timestamptz[])`,
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
  if (events.length === 0) return;
  const { sql, params } = taskEventsInsert(events);
  await manager.query(sql, params);
}
