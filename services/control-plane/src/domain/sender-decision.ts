/**
 * Who sent an agent message, as far as something other than the message vouches for it: the
 * broker (AMQP `user_id`, which RabbitMQ refuses unless it is the publisher's own login), this
 * control plane's signature on a re-driven message's original sender, or this control plane itself.
 */
export type MessageSender =
  /** A broker user: an enrolled node's own (`<prefix>.node.<id>`), or a shared login. */
  | { kind: 'user'; userId: string }
  /** No user id: the shared login of an agent that predates enrollment (protocol version 1). */
  | { kind: 'anonymous' }
  /** Made by this control plane (a command the broker returned as unroutable): nothing to check. */
  | { kind: 'control-plane' };

export const ANONYMOUS: MessageSender = { kind: 'anonymous' };
export const CONTROL_PLANE: MessageSender = { kind: 'control-plane' };

/** The sender of a delivery whose AMQP `user_id` is `userId` (undefined or empty: none). */
export function senderOf(userId: string | undefined | null): MessageSender {
  return userId ? { kind: 'user', userId } : ANONYMOUS;
}

/** The `user_id` a sender stands for, as kept with a dead letter; null for none. */
export function userIdOf(sender: MessageSender): string | null {
  return sender.kind === 'user' ? sender.userId : null;
}

/** The node credential whose broker username is the sender's user id. */
export interface SenderCredential {
  nodeId: string;
  orgId: string;
  revoked: boolean;
}

/** What the message says about who sent it. */
export interface SenderClaim {
  /** The envelope's nodeId. */
  nodeId: string;
  /** A heartbeat's payload nodeId and orgId. */
  payloadNodeId?: string;
  orgId?: string;
}

/** What the database knows of the node id the message claims. */
export interface ClaimedNode {
  /** Its organisation, when it has a node row. */
  orgId: string | null;
  /** It has a credential row (active or revoked): it speaks only through its own broker user. */
  enrolled: boolean;
  /** Its node row or its credential is revoked. */
  revoked: boolean;
}

export interface SenderFacts {
  sender: MessageSender;
  /** Null when the sender is no enrolled node's broker user (or has no user id at all). */
  credential: SenderCredential | null;
  claim: SenderClaim;
  claimedNode: ClaimedNode;
  /** REQUIRE_AGENT_ENROLLMENT: only enrolled senders are heard. */
  requireEnrollment: boolean;
}

export type SenderDecision =
  | {
      kind: 'accepted';
      /** The node the message is from. */
      nodeId: string;
      /** Its organisation: the credential's when enrolled, else the node row's (null: no row yet). */
      orgId: string | null;
      enrolled: boolean;
    }
  | { kind: 'refused'; reason: string };

export type AcceptedSender = Extract<SenderDecision, { kind: 'accepted' }>;

/** A user id in a reason: broker user names are short, but a shared login may be anything. */
const USER_ID_IN_REASON_MAX = 120;

function describeUser(sender: MessageSender): string {
  if (sender.kind !== 'user') return 'no user id';
  const id = sender.userId;
  return `"${id.length > USER_ID_IN_REASON_MAX ? `${id.slice(0, USER_ID_IN_REASON_MAX)}…` : id}"`;
}

/**
 * Decides whether a message may speak for the node (and organisation) it claims:
 * - an enrolled node's user speaks only for its own node, in its credential's organisation, and
 *   not once revoked;
 * - any other sender (a shared login, no user id) is refused when enrollment is required; in
 *   development it is trusted as before, except for a node that is enrolled or revoked (such a node
 *   speaks only through its own user) and for a heartbeat naming another organisation's node.
 */
export function decideSender(facts: SenderFacts): SenderDecision {
  const { sender, credential, claim, claimedNode } = facts;
  if (sender.kind === 'control-plane') {
    return { kind: 'accepted', nodeId: claim.nodeId, orgId: claimedNode.orgId, enrolled: false };
  }
  const payloadNodeId = claim.payloadNodeId ?? claim.nodeId;
  if (credential) {
    if (credential.revoked) return refused(`node ${credential.nodeId} is revoked`);
    const other = [claim.nodeId, payloadNodeId].find((nodeId) => nodeId !== credential.nodeId);
    if (other !== undefined) {
      return refused(`sender ${describeUser(sender)} may not speak for node ${other}`);
    }
    if (claimedNode.revoked) return refused(`node ${credential.nodeId} is revoked`);
    if (claim.orgId !== undefined && claim.orgId !== credential.orgId) {
      return refused(
        `sender ${describeUser(sender)} may not speak for another organisation than node ${credential.nodeId}'s`,
      );
    }
    return { kind: 'accepted', nodeId: credential.nodeId, orgId: credential.orgId, enrolled: true };
  }
  if (facts.requireEnrollment) {
    return refused(
      `unenrolled sender (${describeUser(sender)}): agents must be enrolled (REQUIRE_AGENT_ENROLLMENT)`,
    );
  }
  if (payloadNodeId !== claim.nodeId) {
    return refused(`the envelope names node ${claim.nodeId}, the heartbeat node ${payloadNodeId}`);
  }
  if (claimedNode.revoked) return refused(`node ${claim.nodeId} is revoked`);
  if (claimedNode.enrolled) {
    return refused(
      `unenrolled sender (${describeUser(sender)}) may not speak for node ${claim.nodeId}: ` +
        'an enrolled node speaks only through its own broker user',
    );
  }
  if (claim.orgId !== undefined && claimedNode.orgId !== null && claim.orgId !== claimedNode.orgId) {
    return refused(`node ${claim.nodeId} belongs to another organisation`);
  }
  return {
    kind: 'accepted',
    nodeId: claim.nodeId,
    orgId: claimedNode.orgId ?? claim.orgId ?? null,
    enrolled: false,
  };
}

/** The node and organisation of the execution a report (or a command refusal) is about. */
export interface ExecutionOwner {
  nodeId: string;
  orgId: string;
}

/**
 * A message about an execution is heard only from the node that runs it (and, for an enrolled
 * sender, within its organisation). An unknown execution is left to the caller, which records it
 * as changing nothing. The execution's node is not named: it may be another organisation's.
 */
export function decideExecutionSender(
  sender: AcceptedSender,
  executionId: string,
  owner: ExecutionOwner | null,
): SenderDecision {
  if (owner === null) return sender;
  if (owner.nodeId !== sender.nodeId || (sender.enrolled && owner.orgId !== sender.orgId)) {
    return refused(`node ${sender.nodeId} does not run execution ${executionId}`);
  }
  return sender;
}

function refused(reason: string): SenderDecision {
  return { kind: 'refused', reason };
}
