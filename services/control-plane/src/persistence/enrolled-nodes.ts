import type { EntityManager } from 'typeorm';

/**
 * The node row of a node that has just enrolled, so that it is listed (enrolled, capacity 0: no
 * work until its first heartbeat says what it can take) and can be revoked before it ever
 * connects. A node the organisation had already keeps its row and is no longer revoked. False
 * when the id belongs to another organisation.
 */
export async function saveEnrolledNode(
  manager: EntityManager,
  node: {
    nodeId: string;
    orgId: string;
    agentVersion: string;
    protocolVersion: number;
    labels: Record<string, string>;
    now: Date;
  },
): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    `INSERT INTO nodes AS n (id, org_id, agent_id, agent_version, protocol_version, capacity, reported_running, labels,
                             draining, first_seen_at, last_seen_at)
     VALUES ($1, $2, '', $3, $4, 0, 0, $5, false, $6, $6)
     ON CONFLICT (id) DO UPDATE SET revoked_at = NULL WHERE n.org_id = EXCLUDED.org_id
     RETURNING n.id`,
    [node.nodeId, node.orgId, node.agentVersion, node.protocolVersion, JSON.stringify(node.labels), node.now],
  );
  return rows.length > 0;
}

export async function nodeLabels(manager: EntityManager, nodeId: string): Promise<Record<string, string>> {
  const [row] = await manager.query<{ labels: Record<string, string> }[]>(
    `SELECT labels FROM nodes WHERE id = $1`,
    [nodeId],
  );
  return row?.labels ?? {};
}
