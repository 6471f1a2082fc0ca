import type { DataSource, EntityManager } from 'typeorm';
import type { CreateTaskBody } from '@meridian/contracts/api/task';
import { isValidNodeId } from '@meridian/contracts/topology';
import { InvalidFieldsError, UnprocessableError } from '../domain/errors.js';
import { payloadIssues } from '../domain/task-payload.js';
import {
  decidePlacement,
  placementLookup,
  targetIssues,
  type PlacementDecision,
} from '../domain/task-placement.js';
import { assignServer } from '../persistence/node-servers.writes.js';
import { loadPlacementFacts } from '../persistence/placement-facts.js';

export type Placement = Exclude<PlacementDecision, { kind: 'refused' }>;

/**
 * Checks a new task's payload and target and decides where it runs: a 400 (InvalidFieldsError)
 * for a payload its type's schema refuses or a target a server task cannot have, a 422 naming the
 * field when it cannot be placed (task-placement.ts). Reads only for `Server` and `Node` targets.
 */
export async function placeTask(
  queryable: DataSource | EntityManager,
  orgId: string,
  body: CreateTaskBody,
): Promise<Placement> {
  if (body.nodeId !== undefined && !isValidNodeId(body.nodeId)) {
    throw new UnprocessableError('nodeId may hold letters, digits, ".", "_" and "-" only', 'nodeId');
  }
  const issues = [...payloadIssues(body.type, body.payload), ...targetIssues(body)];
  if (issues.length > 0) throw new InvalidFieldsError(issues);
  const lookup = placementLookup(body);
  const facts = lookup
    ? await loadPlacementFacts(queryable, orgId, lookup)
    : { serverHost: null, orgNodes: new Set<string>() };
  return accepted(decidePlacement(body, facts));
}

/**
 * Places a new server on its node in the transaction creating its first task. When a concurrent
 * request placed it first, the decision is taken again with that placement: the same node is
 * fine, another one is a 422.
 */
export async function assignNewServer(
  manager: EntityManager,
  orgId: string,
  body: CreateTaskBody,
  placement: Placement,
  now: Date,
): Promise<void> {
  if (placement.kind !== 'pinned' || !placement.assignServer) return;
  const host = await assignServer(manager, { orgId, serverId: body.targetId, nodeId: placement.nodeId }, now);
  if (host !== placement.nodeId) {
    accepted(decidePlacement(body, { serverHost: host, orgNodes: new Set([placement.nodeId]) }));
  }
}

function accepted(decision: PlacementDecision): Placement {
  if (decision.kind === 'refused') throw new UnprocessableError(decision.message, decision.field);
  return decision;
}
