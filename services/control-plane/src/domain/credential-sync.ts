import { NODE_QUEUE_ARGUMENTS, type Topology } from '@meridian/contracts/topology';
import { nodeBrokerPermissions } from './node-broker-permissions.js';
import { outboxRetryDelayMs, type OutboxRetryBackoff } from './outbox-retry-delay.js';

/** One change the credentials sync asks of the broker's management API; each is idempotent. */
export type BrokerOperation =
  | { kind: 'declare-queue'; queue: string; arguments: Record<string, unknown> }
  | { kind: 'bind-queue'; exchange: string; queue: string; routingKey: string }
  | { kind: 'put-user'; username: string; passwordHash: string }
  | { kind: 'put-permissions'; username: string; configure: string; write: string; read: string }
  | { kind: 'put-topic-permissions'; username: string; exchange: string; write: string; read: string }
  | { kind: 'delete-user'; username: string }
  | { kind: 'close-connections'; username: string }
  | { kind: 'delete-queue'; queue: string };

/** A `node_credentials` row as the sync reads it. */
export interface CredentialState {
  nodeId: string;
  brokerUsername: string;
  passwordHash: string;
  revoked: boolean;
}

/**
 * What brings the broker in line with a credential row, whatever it held before (each operation is
 * idempotent, so a retried or repeated sync is harmless). Active: the node's queues exist and are
 * bound before its user can log in, then the user with its password hash and permissions. Revoked:
 * the user goes first (RabbitMQ closes its connections as it deletes it), then any connection
 * still open, then its queues with whatever commands they held.
 */
export function planCredentialSync(state: CredentialState, topology: Topology): BrokerOperation[] {
  const queues = [
    { queue: topology.nodeWorkQueue(state.nodeId), routingKey: topology.nodeWorkKey(state.nodeId) },
    { queue: topology.nodeControlQueue(state.nodeId), routingKey: topology.nodeControlKey(state.nodeId) },
  ];
  const username = state.brokerUsername;
  if (state.revoked) {
    return [
      { kind: 'delete-user', username },
      { kind: 'close-connections', username },
      ...queues.map(({ queue }): BrokerOperation => ({ kind: 'delete-queue', queue })),
    ];
  }
  const permissions = nodeBrokerPermissions(topology, state.nodeId);
  return [
    ...queues.flatMap(({ queue, routingKey }): BrokerOperation[] => [
      { kind: 'declare-queue', queue, arguments: { ...NODE_QUEUE_ARGUMENTS } },
      { kind: 'bind-queue', exchange: topology.commandsExchange, queue, routingKey },
    ]),
    { kind: 'put-user', username, passwordHash: state.passwordHash },
    {
      kind: 'put-permissions',
      username,
      configure: permissions.configure,
      write: permissions.write,
      read: permissions.read,
    },
    ...permissions.topic.map((topic): BrokerOperation => ({
      kind: 'put-topic-permissions',
      username,
      ...topic,
    })),
  ];
}

/**
 * A second at first, at most a minute: the broker may be restarting (seconds) or its management
 * API misconfigured (until an operator acts); meanwhile enrolled agents keep what they had.
 */
export const CREDENTIAL_SYNC_BACKOFF: OutboxRetryBackoff = { baseMs: 1000, maxMs: 60_000 };
export const SYNC_ERROR_MAX_LENGTH = 500;

/** When a row whose sync failed `failures` times is tried again. */
export function nextCredentialSyncAt(now: Date, failures: number, random: number): Date {
  return new Date(now.getTime() + outboxRetryDelayMs(failures, random, CREDENTIAL_SYNC_BACKOFF));
}

/** The error kept on the row for operators, bounded. */
export function boundedSyncError(message: string): string {
  return message.length <= SYNC_ERROR_MAX_LENGTH
    ? message
    : `${message.slice(0, SYNC_ERROR_MAX_LENGTH - 1)}…`;
}
