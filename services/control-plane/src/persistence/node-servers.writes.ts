import type { EntityManager } from 'typeorm';
import type { NodeServerState } from '@meridian/contracts/api/node-server';
import type { ReportedServer } from '../domain/server-reports.js';
import type { ServerStateChange } from '../domain/server-state-event.js';

interface WrittenRow {
  org_id: string;
  server_id: string;
  node_id: string;
  state: NodeServerState;
  pid: number | null;
  last_exit_code: number | null;
  last_exit_signal: string | null;
  restarts: number;
  changed_at: Date;
}

/**
 * Stores the servers the heartbeats reported (from `newestServerReports`: one per server, in
 * lock order) and returns those whose state changed, or that were not known before.
 *
 * A report whose `changedAt` is older than the stored one changes nothing: heartbeats that arrive
 * out of order never put a server back in an earlier state. A report of a server stored on another
 * node of the organisation moves it there; an `assigned` server takes the first report. The rows
 * are locked first, in (organisation, server id) order, so that the state before the write is the
 * one the write replaced.
 */
export async function recordReportedServers(
  manager: EntityManager,
  servers: readonly ReportedServer[],
  now: Date,
): Promise<ServerStateChange[]> {
  if (servers.length === 0) return [];
  const orgIds = servers.map((s) => s.orgId);
  const serverIds = servers.map((s) => s.serverId);
  const locked: { org_id: string; server_id: string; state: NodeServerState }[] = await manager.query(
    `SELECT s.org_id, s.server_id, s.state
       FROM node_servers s JOIN unnest($1::text[], $2::text[]) AS u(org_id, server_id)
         ON s.org_id = u.org_id AND s.server_id = u.server_id
      ORDER BY s.org_id COLLATE "C", s.server_id COLLATE "C"
        FOR UPDATE OF s`,
    [orgIds, serverIds],
  );
  const before = new Map(locked.map((row) => [`${row.org_id}\u0000${row.server_id}`, row.state]));
  const written: WrittenRow[] = await manager.query(
    `INSERT INTO node_servers AS s (org_id, server_id, node_id, state, pid, started_at, last_exit_code,
                                    last_exit_signal, restarts, changed_at, reported_at, created_at, updated_at)
     SELECT org_id, server_id, node_id, state, pid, started_at, last_exit_code, last_exit_signal, restarts,
            changed_at, $11, $11, $11
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::int[],
                   $8::text[], $9::int[], $10::timestamptz[])
         AS u(org_id, server_id, node_id, state, pid, started_at, last_exit_code, last_exit_signal, restarts,
              changed_at)
      ORDER BY org_id COLLATE "C", server_id COLLATE "C"
     ON CONFLICT (org_id, server_id) DO UPDATE SET
       node_id = EXCLUDED.node_id, state = EXCLUDED.state, pid = EXCLUDED.pid, started_at = EXCLUDED.started_at,
       last_exit_code = EXCLUDED.last_exit_code, last_exit_signal = EXCLUDED.last_exit_signal,
       restarts = EXCLUDED.restarts, changed_at = EXCLUDED.changed_at, reported_at = EXCLUDED.reported_at,
       updated_at = EXCLUDED.updated_at
     WHERE s.changed_at IS NULL OR s.changed_at <= EXCLUDED.changed_at
     RETURNING s.org_id, s.server_id, s.node_id, s.state, s.pid, s.last_exit_code, s.last_exit_signal, s.restarts,
               s.changed_at`,
    [
      orgIds,
      serverIds,
      servers.map((s) => s.nodeId),
      servers.map((s) => s.state),
      servers.map((s) => s.pid),
      servers.map((s) => s.startedAt),
      servers.map((s) => s.lastExitCode),
      servers.map((s) => s.lastExitSignal ?? null),
      servers.map((s) => s.restarts),
      servers.map((s) => s.changedAt),
      now,
    ],
  );
  return written.flatMap((row): ServerStateChange[] => {
    const previousState = before.get(`${row.org_id}\u0000${row.server_id}`) ?? null;
    if (previousState === row.state) return [];
    return [
      {
        orgId: row.org_id,
        nodeId: row.node_id,
        serverId: row.server_id,
        previousState,
        state: row.state,
        pid: row.pid,
        lastExitCode: row.last_exit_code,
        lastExitSignal: row.last_exit_signal,
        restarts: row.restarts,
        changedAt: new Date(row.changed_at),
      },
    ];
  });
}

/**
 * Places a server no node hosts yet on `nodeId` (`assigned`, until the node reports it), in the
 * transaction that creates its first task. Returns the node that hosts the server afterwards: a
 * concurrent placement may have won, and then it is that one's node.
 */
export async function assignServer(
  manager: EntityManager,
  server: { orgId: string; serverId: string; nodeId: string },
  now: Date,
): Promise<string> {
  const placed: { node_id: string }[] = await manager.query(
    `INSERT INTO node_servers (org_id, server_id, node_id, state, restarts, created_at, updated_at)
     VALUES ($1, $2, $3, 'assigned', 0, $4, $4)
     ON CONFLICT (org_id, server_id) DO NOTHING
     RETURNING node_id`,
    [server.orgId, server.serverId, server.nodeId, now],
  );
  if (placed[0]) return placed[0].node_id;
  // A statement of its own: its snapshot sees the row of the placement that won.
  const hosted: { node_id: string }[] = await manager.query(
    `SELECT node_id FROM node_servers WHERE org_id = $1 AND server_id = $2 FOR SHARE`,
    [server.orgId, server.serverId],
  );
  return hosted[0]?.node_id ?? server.nodeId;
}
