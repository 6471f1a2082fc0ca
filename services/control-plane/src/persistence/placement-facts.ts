import type { DataSource, EntityManager } from 'typeorm';
import type { PlacementFacts } from '../domain/task-placement.js';

/**
 * In one round trip: the node hosting `serverId` in the organisation (if one is asked for), and
 * which of `nodeIds` are nodes of the organisation.
 */
export async function loadPlacementFacts(
  queryable: DataSource | EntityManager,
  orgId: string,
  lookup: { serverId: string | null; nodeIds: readonly string[] },
): Promise<PlacementFacts> {
  const rows: { host: string | null; nodes: string[] }[] = await queryable.query(
    `SELECT (SELECT node_id FROM node_servers WHERE org_id = $1 AND server_id = $2) AS host,
            ARRAY(SELECT id FROM nodes WHERE org_id = $1 AND id = ANY($3::text[])) AS nodes`,
    [orgId, lookup.serverId, lookup.nodeIds],
  );
  return { serverHost: rows[0]?.host ?? null, orgNodes: new Set(rows[0]?.nodes ?? []) };
}
