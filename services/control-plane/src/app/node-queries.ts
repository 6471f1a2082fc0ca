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

interface NodeFacts {
  active: Map<string, number>;
  /** Nodes with broker credentials of their own that are not revoked. */
  enrolled: Set<string>;
}

async function factsOf(deps: AppDeps, nodeIds: string[]): Promise<NodeFacts> {
  if (nodeIds.length === 0) return { active: new Map(), enrolled: new Set() };
  const [active, enrolled] = await Promise.all([
    deps.dataSource.query<{ node_id: string; active: string }[]>(
      `SELECT node_id, count(*) AS active FROM executions
       WHERE released_at IS NULL AND node_id = ANY($1) GROUP BY node_id`,
      [nodeIds],
    ),
    deps.dataSource.query<{ node_id: string }[]>(
      `SELECT node_id FROM node_credentials WHERE node_id = ANY($1) AND revoked_at IS NULL`,
      [nodeIds],
    ),
  ]);
  return {
    active: new Map(active.map((row) => [row.node_id, Number(row.active)])),
    enrolled: new Set(enrolled.map((row) => row.node_id)),
  };
}

function toDto(node: NodeEntity, facts: NodeFacts, now: Date): Node {
  return toNodeDto(
    node,
    facts.active.get(node.id) ?? 0,
    isNodeOnline(node.lastSeenAt, now),
    facts.enrolled.has(node.id),
  );
}

export async function listNodes(deps: AppDeps, actor: Actor): Promise<Node[]> {
  const nodes = await deps.dataSource.getRepository(NodeEntity).find({
    where: { orgId: actor.orgId },
    order: { id: 'ASC' },
    take: 1000,
  });
  const facts = await factsOf(
    deps,
    nodes.map((node) => node.id),
  );
  const now = deps.clock.now();
  return nodes.map((node) => toDto(node, facts, now));
}

export async function getNode(deps: AppDeps, actor: Actor, nodeId: string): Promise<Node> {
  const node = await deps.dataSource.getRepository(NodeEntity).findOneBy({ id: nodeId, orgId: actor.orgId });
  if (!node) throw new NotFoundError('node', nodeId);
  return toDto(node, await factsOf(deps, [node.id]), deps.clock.now());
}
