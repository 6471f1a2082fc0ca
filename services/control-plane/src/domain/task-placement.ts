import { isValidServerId } from '@meridian/contracts/task-types/common';
import {
  NODE_TARGET_TYPE,
  SERVER_TARGET_TYPE,
  SERVER_TASK_TYPES,
} from '@meridian/contracts/task-types/registry';
import type { FieldIssue } from './task-payload.js';

/** The parts of a create-task body that say where the task runs. */
export interface PlacementRequest {
  type: string;
  targetType: string;
  targetId: string;
  nodeId?: string | undefined;
  payload: Record<string, unknown>;
}

/** What the database knows that the decision needs (see `placementLookup`). */
export interface PlacementFacts {
  /** The node hosting the server a `Server` task targets; null when no node does. */
  serverHost: string | null;
  /** Those of the looked-up node ids that are nodes of the caller's organisation. */
  orgNodes: ReadonlySet<string>;
}

export type PlacementDecision =
  /** Any node of the organisation (or `nodeId`, when the body gave one): as before servers. */
  | { kind: 'unchanged'; nodeId: string | null }
  /** Runs on `nodeId`; `assignServer`: the server is new, and placed on that node with the task. */
  | { kind: 'pinned'; nodeId: string; assignServer: boolean }
  /** 422 naming `field`. */
  | { kind: 'refused'; field: string; message: string };

/** Types that may place a server no node hosts yet: its first start. */
const FIRST_START_TYPES: ReadonlySet<string> = new Set(['ServerStart', 'ServerRestart']);

/**
 * What is wrong with a request's target regardless of the database (a 400 each): a server task
 * must target a `Server`, and a server's id names a directory on its node.
 */
export function targetIssues(request: PlacementRequest): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (SERVER_TASK_TYPES.has(request.type) && request.targetType !== SERVER_TARGET_TYPE) {
    issues.push({
      field: 'targetType',
      message: `a ${request.type} task acts on one server: targetType must be "${SERVER_TARGET_TYPE}"`,
    });
  }
  if (request.targetType === SERVER_TARGET_TYPE && !isValidServerId(request.targetId)) {
    issues.push({
      field: 'targetId',
      message: 'a server id: letters, digits, ".", "_" and "-", at most 200, starting with a letter or digit',
    });
  }
  return issues;
}

/** The rows `decidePlacement` needs: a server's host and whether some ids are nodes of the org. */
export function placementLookup(
  request: PlacementRequest,
): { serverId: string | null; nodeIds: string[] } | null {
  if (request.targetType === SERVER_TARGET_TYPE) {
    return { serverId: request.targetId, nodeIds: request.nodeId === undefined ? [] : [request.nodeId] };
  }
  if (request.targetType === NODE_TARGET_TYPE) return { serverId: null, nodeIds: [request.targetId] };
  return null;
}

/**
 * Where a new task runs (docs/api/servers.md, "Where a task goes"):
 * - `Server`: on the node hosting the server. A server no node hosts yet is placed by its first
 *   ServerStart (or ServerRestart) on the node the body names, with a spec to start it from.
 * - `Node`: on the node `targetId` names, a node of the caller's organisation.
 * - any other target: wherever the dispatcher finds room, or the body's `nodeId`, as before.
 * Call it after `targetIssues` found nothing.
 */
export function decidePlacement(request: PlacementRequest, facts: PlacementFacts): PlacementDecision {
  const { nodeId } = request;
  if (request.targetType === NODE_TARGET_TYPE) {
    if (!facts.orgNodes.has(request.targetId)) {
      return refused('targetId', `node ${request.targetId} is not a node of your organisation`);
    }
    if (nodeId !== undefined && nodeId !== request.targetId) {
      return refused(
        'nodeId',
        `a task on node ${request.targetId} runs there: give nodeId ${request.targetId} or none`,
      );
    }
    return { kind: 'pinned', nodeId: request.targetId, assignServer: false };
  }
  if (request.targetType !== SERVER_TARGET_TYPE) return { kind: 'unchanged', nodeId: nodeId ?? null };

  const serverId = request.targetId;
  if (facts.serverHost !== null) {
    if (nodeId !== undefined && nodeId !== facts.serverHost) {
      return refused(
        'nodeId',
        `server ${serverId} is hosted on node ${facts.serverHost}: give that nodeId or none`,
      );
    }
    return { kind: 'pinned', nodeId: facts.serverHost, assignServer: false };
  }
  if (!FIRST_START_TYPES.has(request.type)) {
    return refused(
      'targetId',
      `no node hosts server ${serverId}: start it first with a ServerStart naming nodeId`,
    );
  }
  if (nodeId === undefined) return refused('nodeId', `no node hosts server ${serverId} yet: give nodeId`);
  if (!facts.orgNodes.has(nodeId))
    return refused('nodeId', `node ${nodeId} is not a node of your organisation`);
  if (request.payload['spec'] === undefined) {
    return refused('payload.spec', `server ${serverId} is new: its first ${request.type} needs payload.spec`);
  }
  return { kind: 'pinned', nodeId, assignServer: true };
}

function refused(field: string, message: string): PlacementDecision {
  return { kind: 'refused', field, message };
}
