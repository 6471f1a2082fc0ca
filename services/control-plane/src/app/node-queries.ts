import type { Node } from '@meridian/contracts/api/node';
import {
  HEARTBEAT_INTERVAL_SECONDS,
  MISSED_HEARTBEATS_BEFORE_OFFLINE,
} from '@meridian/contracts/messages/agent-heartbeat';
import { NotFoundError } from '../domain/errors.js';
import { NodeEntity } from '../persistence/entities/node.entity.js';
import { toNodeDto } from '../persistence/mappers.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

export const OFFLINE_AFTER_MS = HEARTBEAT_INTERVAL_SECONDS * MISSED_HEARTBEATS_BEFORE_OFFLINE * 1000;

export function isNodeOnline(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() <= OFFLINE_AFTER_MS;
}

async function activeCounts(deps: AppDeps, nodeIds: string[]): Promise<Map<string, number>> {
  if (nodeIds.length === 0) return new Map();
  const rows: { node_id: string; active: string }[] = await deps.dataSource.query(
    `SELECT node_id, count(*) AS active FROM executions
     WHERE released_at IS NULL AND node_id = ANY($1) GROUP BY node_id`,
    [nodeIds],
  );
  return new Map(rows.map((row) => [row.node_id, Number(row.active)]));
}

export async function listNodes(deps: AppDeps, actor: Actor): Promise<Node[]> {
  const nodes = await deps.dataSource.getRepository(NodeEntity).find({
    where: { orgId: actor.orgId },
    order: { id: 'ASC' },
    take: 1000,
  });
  const counts = await activeCounts(
    deps,
    nodes.map((node) => node.id),
  );
  const now = deps.clock.now();
  return nodes.map((node) => toNodeDto(node, counts.get(node.id) ?? 0, isNodeOnline(node.lastSeenAt, now)));
}

export async function getNode(deps: AppDeps, actor: Actor, nodeId: string): Promise<Node> {
  const node = await deps.dataSource.getRepository(NodeEntity).findOneBy({ id: nodeId, orgId: actor.orgId });
  if (!node) throw new NotFoundError('node', nodeId);
  const counts = await activeCounts(deps, [node.id]);
  return toNodeDto(node, counts.get(node.id) ?? 0, isNodeOnline(node.lastSeenAt, deps.clock.now()));
}
