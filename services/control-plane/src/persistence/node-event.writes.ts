import type { SqlPart } from './write-batch.js';

export interface NewNodeEvent {
  orgId: string;
  nodeId: string;
  type: string;
  actor: string;
  data?: Record<string, unknown>;
  occurredAt: Date;
}

/** The INSERT of a batch of node audit events (`NodeLost`, `NodeReturned`), to run with the change. */
export function nodeEventsPart(events: readonly NewNodeEvent[]): SqlPart | null {
  if (events.length === 0) return null;
  return {
    sql: `INSERT INTO node_events (org_id, node_id, type, actor, data, occurred_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])`,
    params: [
      events.map((e) => e.orgId),
      events.map((e) => e.nodeId),
      events.map((e) => e.type),
      events.map((e) => e.actor),
      events.map((e) => JSON.stringify(e.data ?? {})),
      events.map((e) => e.occurredAt.toISOString()),
    ],
  };
}
