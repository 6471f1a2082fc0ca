import { createHash } from 'node:crypto';
import {
  SERVER_STATE_CHANGED,
  SERVER_STATE_CHANGED_VERSION,
  type NodeServerState,
  type ServerStateChanged,
} from '@meridian/contracts/api/node-server';

/** A server whose stored state a heartbeat changed (or that the control plane heard of first). */
export interface ServerStateChange {
  orgId: string;
  nodeId: string;
  serverId: string;
  /** null when the server was not known before. */
  previousState: NodeServerState | null;
  state: NodeServerState;
  pid: number | null;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  restarts: number;
  /** When the state changed, on the agent's clock. */
  changedAt: Date;
}

/**
 * The id of the event of one state change, derived from what identifies the change (organisation,
 * server, state, time of the change): the same change heard twice (a duplicated or repeated
 * heartbeat) gets the same id, so the outbox queues it once and consumers can dedupe on it.
 * A UUID of version 5's layout over SHA-256.
 */
export function serverStateEventId(orgId: string, serverId: string, state: string, changedAt: Date): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([SERVER_STATE_CHANGED, orgId, serverId, state, changedAt.toISOString()]))
    .digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The body of `server.state_changed` for one change. */
export function serverStateChangedEvent(change: ServerStateChange): ServerStateChanged {
  return {
    eventId: serverStateEventId(change.orgId, change.serverId, change.state, change.changedAt),
    name: SERVER_STATE_CHANGED,
    version: SERVER_STATE_CHANGED_VERSION,
    occurredAt: change.changedAt.toISOString(),
    orgId: change.orgId,
    nodeId: change.nodeId,
    serverId: change.serverId,
    previousState: change.previousState,
    state: change.state,
    pid: change.pid,
    lastExitCode: change.lastExitCode,
    lastExitSignal: change.lastExitSignal,
    restarts: change.restarts,
  };
}
