import { describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  CONTROL_PLANE,
  decideExecutionSender,
  decideSender,
  senderOf,
  type AcceptedSender,
  type ClaimedNode,
  type SenderClaim,
  type SenderCredential,
  type SenderFacts,
} from './sender-decision.js';

const user = senderOf('m.node.a');
const shared = senderOf('guest');
const active: SenderCredential = { nodeId: 'a', orgId: 'org-a', revoked: false };
const revoked: SenderCredential = { ...active, revoked: true };
const unknown: ClaimedNode = { orgId: null, enrolled: false, revoked: false };
const plainNode = (orgId: string): ClaimedNode => ({ orgId, enrolled: false, revoked: false });
const enrolledNode: ClaimedNode = { orgId: 'org-a', enrolled: true, revoked: false };
const revokedNode: ClaimedNode = { orgId: 'org-a', enrolled: true, revoked: true };
const report = (nodeId: string): SenderClaim => ({ nodeId });
const beat = (nodeId: string, orgId: string, payloadNodeId = nodeId): SenderClaim => ({
  nodeId,
  payloadNodeId,
  orgId,
});

function facts(
  sender: SenderFacts['sender'],
  credential: SenderCredential | null,
  claim: SenderClaim,
  claimedNode: ClaimedNode,
  requireEnrollment = false,
): SenderFacts {
  return { sender, credential, claim, claimedNode, requireEnrollment };
}

describe('decideSender', () => {
  it.each([
    // Enrolled senders: their own node, their credential's organisation, never once revoked.
    [
      'own report',
      facts(user, active, report('a'), enrolledNode),
      { nodeId: 'a', orgId: 'org-a', enrolled: true },
    ],
    ['own heartbeat', facts(user, active, beat('a', 'org-a'), enrolledNode), { nodeId: 'a', orgId: 'org-a' }],
    [
      'own heartbeat, no node row yet',
      facts(user, active, beat('a', 'org-a'), { ...unknown, enrolled: true }),
      { orgId: 'org-a' },
    ],
    [
      'own report with enrollment required',
      facts(user, active, report('a'), enrolledNode, true),
      { nodeId: 'a' },
    ],
    // Unenrolled senders in development: as before.
    [
      'anonymous report, unknown node',
      facts(ANONYMOUS, null, report('b'), unknown),
      { nodeId: 'b', orgId: null, enrolled: false },
    ],
    [
      'shared login heartbeat, new node',
      facts(shared, null, beat('b', 'org-b'), unknown),
      { nodeId: 'b', orgId: 'org-b' },
    ],
    [
      'shared login heartbeat, its node',
      facts(shared, null, beat('b', 'org-b'), plainNode('org-b')),
      { orgId: 'org-b' },
    ],
    [
      'anonymous report, known node',
      facts(ANONYMOUS, null, report('b'), plainNode('org-b')),
      { orgId: 'org-b' },
    ],
    // The control plane's own reports (returned commands).
    [
      'control plane',
      facts(CONTROL_PLANE, null, report('b'), plainNode('org-b'), true),
      { nodeId: 'b', orgId: 'org-b' },
    ],
  ] as const)('accepts %s', (_, input, expected) => {
    expect(decideSender(input)).toMatchObject({ kind: 'accepted', ...expected });
  });

  it.each([
    ['a revoked credential', facts(user, revoked, report('a'), revokedNode), 'node a is revoked'],
    [
      'a revoked node of an active credential',
      facts(user, active, report('a'), revokedNode),
      'node a is revoked',
    ],
    [
      'a report for another node',
      facts(user, active, report('b'), plainNode('org-b')),
      'sender "m.node.a" may not speak for node b',
    ],
    [
      'a heartbeat for another node',
      facts(user, active, beat('b', 'org-a'), unknown),
      'may not speak for node b',
    ],
    [
      'a heartbeat whose payload names another node',
      facts(user, active, beat('a', 'org-a', 'b'), enrolledNode),
      'may not speak for node b',
    ],
    [
      'a heartbeat claiming another organisation',
      facts(user, active, beat('a', 'org-b'), enrolledNode),
      'another organisation than node a',
    ],
    [
      'an anonymous sender when enrollment is required',
      facts(ANONYMOUS, null, report('b'), unknown, true),
      'unenrolled sender (no user id)',
    ],
    [
      'a shared login when enrollment is required',
      facts(shared, null, beat('b', 'org-b'), plainNode('org-b'), true),
      'unenrolled sender ("guest")',
    ],
    [
      'an unenrolled sender speaking for an enrolled node',
      facts(shared, null, report('a'), enrolledNode),
      'may not speak for node a',
    ],
    [
      'an unenrolled sender speaking for a revoked node',
      facts(ANONYMOUS, null, beat('a', 'org-a'), revokedNode),
      'node a is revoked',
    ],
    [
      "an unenrolled heartbeat for another organisation's node",
      facts(shared, null, beat('b', 'org-x'), plainNode('org-b')),
      'node b belongs to another organisation',
    ],
    [
      'an unenrolled heartbeat naming two nodes',
      facts(shared, null, beat('b', 'org-b', 'c'), unknown),
      'names node b, the heartbeat node c',
    ],
  ] as const)('refuses %s', (_, input, reason) => {
    const decision = decideSender(input);
    expect(decision.kind).toBe('refused');
    if (decision.kind === 'refused') expect(decision.reason).toContain(reason);
  });

  it('cuts a long user id short in its reason', () => {
    const decision = decideSender(facts(senderOf('u'.repeat(500)), null, report('b'), unknown, true));
    expect(decision.kind === 'refused' && decision.reason.length).toBeLessThan(250);
  });

  it('treats an empty user id as none', () => {
    expect(senderOf('')).toEqual(ANONYMOUS);
    expect(senderOf(undefined)).toEqual(ANONYMOUS);
  });
});

describe('decideExecutionSender', () => {
  const enrolled: AcceptedSender = { kind: 'accepted', nodeId: 'a', orgId: 'org-a', enrolled: true };
  const unenrolled: AcceptedSender = { kind: 'accepted', nodeId: 'b', orgId: null, enrolled: false };

  it.each([
    ['its own execution', enrolled, { nodeId: 'a', orgId: 'org-a' }, 'accepted'],
    ['an unknown execution (recorded as changing nothing)', enrolled, null, 'accepted'],
    ["another node's execution", enrolled, { nodeId: 'b', orgId: 'org-a' }, 'refused'],
    ['its node id in another organisation', enrolled, { nodeId: 'a', orgId: 'org-x' }, 'refused'],
    ["an unenrolled sender's own execution", unenrolled, { nodeId: 'b', orgId: 'org-b' }, 'accepted'],
    [
      "an unenrolled sender on another node's execution",
      unenrolled,
      { nodeId: 'a', orgId: 'org-a' },
      'refused',
    ],
  ] as const)('%s → %s', (_, sender, owner, kind) => {
    const decision = decideExecutionSender(sender, 'e1', owner);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'refused') {
      expect(decision.reason).toBe(`node ${sender.nodeId} does not run execution e1`);
    }
  });
});
