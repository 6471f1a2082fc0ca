import type { EntityManager } from 'typeorm';
import {
  ANONYMOUS,
  decideSender,
  type ClaimedNode,
  type ExecutionOwner,
  type MessageSender,
  type SenderClaim,
  type SenderCredential,
  type SenderDecision,
} from '../domain/sender-decision.js';

/** A message as a consumer received it, with who sent it (the broker's word, not the message's). */
export interface Received<T> {
  message: T;
  sender: MessageSender;
}

/** Messages whose sender nobody vouches for: what a version-1 agent on the shared login gives. */
export function anonymously<T>(messages: readonly T[]): Received<T>[] {
  return messages.map((message) => ({ message, sender: ANONYMOUS }));
}

interface CredentialRow {
  node_id: string;
  org_id: string;
  broker_username: string;
  revoked: boolean;
}

interface NodeRow {
  id: string;
  org_id: string;
  revoked: boolean;
}

/**
 * Decides, inside the recording transaction, whether each message may speak for the node it
 * claims: reads the credentials of the senders' user ids and of the claimed node ids, and the
 * claimed nodes' rows, in two statements for the whole batch, then asks `decideSender`.
 */
export async function resolveSenders(
  manager: EntityManager,
  items: readonly { sender: MessageSender; claim: SenderClaim }[],
  requireEnrollment: boolean,
): Promise<SenderDecision[]> {
  if (items.length === 0) return [];
  const userIds = [
    ...new Set(items.flatMap(({ sender }) => (sender.kind === 'user' ? [sender.userId] : []))),
  ];
  const nodeIds = [
    ...new Set(items.flatMap(({ claim }) => [claim.nodeId, claim.payloadNodeId ?? claim.nodeId])),
  ];
  const credentials: CredentialRow[] = await manager.query(
    `SELECT node_id, org_id, broker_username, revoked_at IS NOT NULL AS revoked FROM node_credentials
      WHERE broker_username = ANY($1::text[]) OR node_id = ANY($2::text[])`,
    [userIds, nodeIds],
  );
  const nodes: NodeRow[] = await manager.query(
    `SELECT id, org_id, revoked_at IS NOT NULL AS revoked FROM nodes WHERE id = ANY($1::text[])`,
    [nodeIds],
  );
  const byUser = new Map(credentials.map((row) => [row.broker_username, row]));
  const byNode = new Map(credentials.map((row) => [row.node_id, row]));
  const nodeRows = new Map(nodes.map((row) => [row.id, row]));

  const claimedNode = (nodeId: string): ClaimedNode => {
    const node = nodeRows.get(nodeId);
    const credential = byNode.get(nodeId);
    return {
      orgId: node?.org_id ?? null,
      enrolled: credential !== undefined,
      revoked: (node?.revoked ?? false) || (credential?.revoked ?? false),
    };
  };
  return items.map(({ sender, claim }) => {
    const row = sender.kind === 'user' ? byUser.get(sender.userId) : undefined;
    const credential: SenderCredential | null = row
      ? { nodeId: row.node_id, orgId: row.org_id, revoked: row.revoked }
      : null;
    return decideSender({
      sender,
      credential,
      claim,
      // The node a heartbeat writes is its payload's; both must be the same anyway.
      claimedNode: claimedNode(claim.payloadNodeId ?? claim.nodeId),
      requireEnrollment,
    });
  });
}

/**
 * The node and organisation of each execution, for `decideExecutionSender`. A plain read: an
 * execution never moves to another node, so no lock is needed to decide who may report on it.
 */
export async function executionOwners(
  manager: EntityManager,
  executionIds: readonly string[],
): Promise<Map<string, ExecutionOwner>> {
  if (executionIds.length === 0) return new Map();
  const rows: { id: string; node_id: string; org_id: string }[] = await manager.query(
    `SELECT id, node_id, org_id FROM executions WHERE id = ANY($1::uuid[])`,
    [[...new Set(executionIds)]],
  );
  return new Map(rows.map((row) => [row.id, { nodeId: row.node_id, orgId: row.org_id }]));
}
