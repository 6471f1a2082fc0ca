import type { EntityManager } from 'typeorm';
import { SERVER_STATE_CHANGED } from '@meridian/contracts/api/node-server';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import { newestServerReports } from '../domain/server-reports.js';
import { serverStateChangedEvent } from '../domain/server-state-event.js';
import { recordReportedServers } from '../persistence/node-servers.writes.js';
import { enqueueOutboxMessages, type NewOutboxMessage } from '../persistence/outbox.writes.js';
import type { AppDeps } from './app-deps.js';

/**
 * Stores the servers reported by the heartbeats of the nodes whose row the batch updated (a
 * refused heartbeat, another organisation's node or a revoked one, reports nothing), and queues a
 * `server.state_changed` event on the events exchange for each server whose state changed, in the
 * heartbeat batch's transaction. Returns how many changed.
 */
export async function recordServerReports(
  deps: Pick<AppDeps, 'topology' | 'logger'>,
  manager: EntityManager,
  beats: readonly { heartbeat: AgentHeartbeat }[],
  updatedNodes: readonly string[],
  now: Date,
): Promise<number> {
  const updated = new Set(updatedNodes);
  const servers = newestServerReports(
    beats.flatMap(({ heartbeat }) => (updated.has(heartbeat.nodeId) ? [heartbeat] : [])),
  );
  if (servers.length === 0) return 0;
  const changes = await recordReportedServers(manager, servers, now);
  const messages = changes.map((change): NewOutboxMessage => {
    const body = serverStateChangedEvent(change);
    deps.logger.info(
      { serverId: change.serverId, nodeId: change.nodeId, from: change.previousState, to: change.state },
      'server state changed',
    );
    return {
      messageId: body.eventId,
      exchange: deps.topology.eventsExchange,
      routingKey: SERVER_STATE_CHANGED,
      type: SERVER_STATE_CHANGED,
      body,
      correlationId: `server:${change.serverId}`,
    };
  });
  await enqueueOutboxMessages(manager, messages);
  return changes.length;
}
