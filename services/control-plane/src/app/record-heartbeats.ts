import type { EntityManager } from 'typeorm';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import { recordReturnedNodes } from './record-returned-nodes.js';

/**
 * Upserts the node rows of a batch of heartbeats in one statement (only the newest beat per node),
 * in node id order: two batches that touch the same nodes lock their rows in the same order, so
 * concurrent heartbeat writes (two consumers, two replicas) wait for each other instead of
 * deadlocking.
 * A node id already owned by another organisation is refused: its row is left as it was; so is a
 * revoked node's (a heartbeat never brings it back: only enrolling it again does).
 * The task types an agent announces replace the stored ones; a heartbeat without them (an older
 * agent) leaves them as they were.
 * Returns the ids of nodes whose row changed.
 */
export async function recordHeartbeats(
  manager: EntityManager,
  beats: readonly { heartbeat: AgentHeartbeat; occurredAt: Date }[],
  now: Date,
  capacityLimit: number,
): Promise<string[]> {
  const newest = new Map<string, { heartbeat: AgentHeartbeat; occurredAt: Date }>();
  for (const beat of beats) {
    const seen = newest.get(beat.heartbeat.nodeId);
    if (!seen || seen.occurredAt <= beat.occurredAt) newest.set(beat.heartbeat.nodeId, beat);
  }
  if (newest.size === 0) return [];
  const rows = [...newest.values()]
    .map((b) => b.heartbeat)
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  await recordReturnedNodes(manager, rows, now);
  const updated: { id: string }[] = await manager.query(
    `INSERT INTO nodes AS n (id, org_id, agent_id, agent_version, protocol_version, capacity, reported_running,
                             labels, draining, handler_types, first_seen_at, last_seen_at)
     SELECT id, org_id, agent_id, agent_version, protocol_version, capacity, reported_running, labels, draining,
            CASE WHEN handler_types IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(handler_types)) END,
            $11, $11
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::jsonb[],
                   $9::boolean[], $10::jsonb[])
         AS u(id, org_id, agent_id, agent_version, protocol_version, capacity, reported_running, labels, draining,
              handler_types)
      ORDER BY id COLLATE "C"
     ON CONFLICT (id) DO UPDATE SET
       agent_id = EXCLUDED.agent_id, agent_version = EXCLUDED.agent_version,
       protocol_version = EXCLUDED.protocol_version, capacity = EXCLUDED.capacity,
       reported_running = EXCLUDED.reported_running, labels = EXCLUDED.labels, draining = EXCLUDED.draining,
       handler_types = coalesce(EXCLUDED.handler_types, n.handler_types),
       last_seen_at = EXCLUDED.last_seen_at, lost_at = NULL
     WHERE n.org_id = EXCLUDED.org_id AND n.revoked_at IS NULL
     RETURNING n.id`,
    [
      rows.map((h) => h.nodeId),
      rows.map((h) => h.orgId),
      rows.map((h) => h.agentId),
      rows.map((h) => h.agentVersion),
      rows.map((h) => h.protocolVersion),
      rows.map((h) => Math.min(h.capacity, capacityLimit)),
      rows.map((h) => h.runningExecutions.length),
      rows.map((h) => JSON.stringify(h.labels)),
      rows.map((h) => h.draining ?? false),
      // jsonb, not text[]: unnest would flatten an array of arrays.
      rows.map((h) => (h.handlerTypes === undefined ? null : JSON.stringify(h.handlerTypes))),
      now,
    ],
  );
  return updated.map((row) => row.id);
}
