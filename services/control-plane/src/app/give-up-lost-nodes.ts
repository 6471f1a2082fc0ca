import type { EntityManager } from 'typeorm';
import { lockExecutionsWithTasks } from '../persistence/execution-with-task.js';
import { nodeEventsPart } from '../persistence/node-event.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { AppDeps } from './app-deps.js';
import { giveUpExecutions } from './give-up-executions.js';

/**
 * One pass of the lost-node sweep. A node that sent no heartbeat for `NODE_LOST_AFTER_SECONDS` is
 * marked lost (not a revoked one, whose executions its revocation gave up, nor an enrolled one
 * that has never connected) (`NodeLost` audit event); every unfinished execution on a lost node ends AgentLost,
 * its slot freed, its task retried per policy (on any eligible node, or, if pinned, on its own
 * node once that node is back) and a CancelTask queued for the node in case the work still runs.
 * Safe on several replicas: rows are claimed with SKIP LOCKED, and executions left over by a
 * pass (batch full, rows locked elsewhere) are found by the next one, since the node stays lost
 * until it heartbeats. With `markLost` false the pass declares no node lost (the caller cannot
 * tell silence from its own deafness yet) but still ends the executions of nodes already lost.
 * Returns how many nodes and executions it handled.
 */
export async function giveUpLostNodes(
  deps: AppDeps,
  batchSize: number,
  options: { markLost: boolean } = { markLost: true },
): Promise<number> {
  const now = deps.clock.now();
  return deps.dataSource.transaction(async (manager) => {
    const nodes = options.markLost ? await markLostNodes(deps, manager, now, batchSize) : 0;
    const due: { id: string }[] = await manager.query(
      // Both rows claimed without waiting: a row a report or a user holds is taken by a later pass,
      // and the sweep never waits in a lock cycle with them.
      `SELECT e.id FROM executions e JOIN nodes n ON n.id = e.node_id JOIN tasks t ON t.id = e.task_id
        WHERE e.released_at IS NULL AND n.lost_at IS NOT NULL
        ORDER BY t.id, e.id LIMIT $1 FOR UPDATE OF e, t SKIP LOCKED`,
      [batchSize],
    );
    if (due.length === 0) return nodes;
    const locked = await lockExecutionsWithTasks(
      manager,
      due.map((row) => row.id),
    );
    const ended = await giveUpExecutions(deps, manager, 'NodeLost', locked.values(), now, () => ({
      lostAfterSeconds: deps.defaults.nodeLostAfterSeconds,
    }));
    if (ended > 0) deps.logger.warn({ executions: ended }, 'executions of lost nodes given up');
    return nodes + locked.size;
  });
}

async function markLostNodes(
  deps: AppDeps,
  manager: EntityManager,
  now: Date,
  limit: number,
): Promise<number> {
  const cutoff = new Date(now.getTime() - deps.defaults.nodeLostAfterSeconds * 1000);
  const lost: { id: string; org_id: string; last_seen_at: Date }[] = await manager.query(
    `WITH due AS (
       SELECT id FROM nodes
        WHERE lost_at IS NULL AND last_seen_at < $1 AND revoked_at IS NULL AND agent_id <> ''
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
     ), marked AS (
       UPDATE nodes n SET lost_at = $3 FROM due WHERE n.id = due.id RETURNING n.id, n.org_id, n.last_seen_at
     )
     SELECT * FROM marked`,
    [cutoff, limit, now],
  );
  if (lost.length === 0) return 0;
  for (const node of lost) {
    deps.logger.warn({ nodeId: node.id, lastSeenAt: node.last_seen_at }, 'node lost');
  }
  await new WriteBatch()
    .add(
      nodeEventsPart(
        lost.map((node) => ({
          orgId: node.org_id,
          nodeId: node.id,
          type: 'NodeLost',
          actor: 'system:lost-node-sweep',
          data: {
            lastSeenAt: node.last_seen_at.toISOString(),
            lostAfterSeconds: deps.defaults.nodeLostAfterSeconds,
          },
          occurredAt: now,
        })),
      ),
    )
    .run(manager);
  return lost.length;
}
