import type { ServerReport } from '@meridian/contracts/task-types/server-spec';

/** One server as a node's heartbeat reported it, with the node and organisation it was heard from. */
export interface ReportedServer extends ServerReport {
  orgId: string;
  nodeId: string;
}

/**
 * The servers of a batch of heartbeats, one per (organisation, server id): when two heartbeats of
 * the batch report a server (its node twice, or two nodes after it moved), the one whose state
 * changed last wins, and on a tie the later heartbeat. Sorted by organisation then server id, the
 * order the rows are locked in, so that concurrent batches wait for each other instead of
 * deadlocking.
 */
export function newestServerReports(
  beats: readonly { orgId: string; nodeId: string; servers?: readonly ServerReport[] | undefined }[],
): ReportedServer[] {
  const newest = new Map<string, ReportedServer>();
  for (const beat of beats) {
    for (const server of beat.servers ?? []) {
      const key = `${beat.orgId}\u0000${server.serverId}`;
      const seen = newest.get(key);
      if (!seen || Date.parse(seen.changedAt) <= Date.parse(server.changedAt)) {
        newest.set(key, { ...server, orgId: beat.orgId, nodeId: beat.nodeId });
      }
    }
  }
  return [...newest.values()].sort(
    (a, b) => compareText(a.orgId, b.orgId) || compareText(a.serverId, b.serverId),
  );
}

/** Byte order (PostgreSQL's `COLLATE "C"`), not the locale's. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
