/** Servers in heartbeats, for the tests of node servers, their events and task placement. */
import type { ServerReport } from '@meridian/contracts/task-types/server-spec';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import type { AppDeps } from '../../app/app-deps.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { heartbeat } from '../../../../../test/support/app-deps.js';

/** One server as a heartbeat reports it; `changedAt` defaults to noon of the test clock's day. */
export function serverReport(serverId: string, fields: Partial<ServerReport> = {}): ServerReport {
  return {
    serverId,
    state: 'running',
    pid: 4242,
    startedAt: '2026-06-01T11:59:00.000Z',
    lastExitCode: null,
    lastExitSignal: null,
    restarts: 0,
    changedAt: '2026-06-01T12:00:00.000Z',
    ...fields,
  };
}

/** Records one heartbeat of `nodeId` (of `orgId`) reporting `servers`, as its agent would send it. */
export async function reportServers(
  deps: AppDeps,
  orgId: string,
  nodeId: string,
  servers: ServerReport[],
  extra: Partial<AgentHeartbeat> = {},
) {
  return recordAgentMessages(deps, [heartbeat(nodeId, orgId, 4, deps.clock.now(), { servers, ...extra })]);
}
