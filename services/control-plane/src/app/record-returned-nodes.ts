import type { EntityManager } from 'typeorm';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';

/**
 * A heartbeat from a lost node makes it online again (the heartbeat upsert clears `lost_at` too);
 * this records `NodeReturned` for each. It writes nothing unless a node was lost, and checks the
 * organisation, so that a heartbeat claiming another organisation's node changes nothing.
 */
export async function recordReturnedNodes(
  manager: EntityManager,
  heartbeats: readonly AgentHeartbeat[],
  now: Date,
): Promise<void> {
  await manager.query(
    `WITH returned AS (
       UPDATE nodes n SET lost_at = NULL
         FROM unnest($1::text[], $2::text[]) AS u(id, org_id)
        WHERE n.id = u.id AND n.org_id = u.org_id AND n.lost_at IS NOT NULL AND n.revoked_at IS NULL
        RETURNING n.id, n.org_id, n.agent_id
     )
     INSERT INTO node_events (org_id, node_id, type, actor, data, occurred_at)
     SELECT org_id, id, 'NodeReturned', 'node:' || id, jsonb_build_object('agentId', agent_id), $3 FROM returned`,
    [heartbeats.map((h) => h.nodeId), heartbeats.map((h) => h.orgId), now],
  );
}
