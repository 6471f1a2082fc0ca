import type { Node } from '@meridian/contracts/api/node';
import { NotFoundError } from '../domain/errors.js';
import { lockExecutionsWithTasks } from '../persistence/execution-with-task.js';
import { revokeCredential } from '../persistence/node-credentials.js';
import { nodeEventsPart } from '../persistence/node-event.writes.js';
import { notifyDispatchers } from '../persistence/outbox.writes.js';
import { WriteBatch } from '../persistence/write-batch.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { DISPATCH_LOCK_KEY } from './dispatch-pending-tasks.js';
import { giveUpExecutions } from './give-up-executions.js';
import { getNode } from './node-queries.js';
import { syncNodeCredentialsNow } from './sync-node-credentials.js';

/**
 * Revokes a node of the caller's organisation: it takes no more work, its broker user is deleted
 * (its connections closed) and its queues with it, and its unfinished executions are given up as
 * a lost node's (tasks retried elsewhere unless pinned to it). In one transaction: the node and
 * its credentials marked revoked (the credentials' next version is the revoked one), `NodeRevoked`
 * recorded, the executions ended. The dispatch lock is taken first so that no dispatch pass that
 * read the node before this commit can still hand it a task. Then the broker is synced at once.
 * Revoking a revoked node changes nothing and answers the node again.
 */
export async function revokeNode(deps: AppDeps, actor: Actor, nodeId: string): Promise<Node> {
  const now = deps.clock.now();
  const changed = await deps.dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [DISPATCH_LOCK_KEY]);
    const [node] = await manager.query<{ id: string; revoked_at: Date | null }[]>(
      `SELECT id, revoked_at FROM nodes WHERE id = $1 AND org_id = $2 FOR UPDATE`,
      [nodeId, actor.orgId],
    );
    if (!node) throw new NotFoundError('node', nodeId);
    const credential = await revokeCredential(manager, nodeId, actor.orgId, now);
    if (node.revoked_at !== null && credential === null) return null;
    if (node.revoked_at === null) {
      await manager.query(`UPDATE nodes SET revoked_at = $2 WHERE id = $1`, [nodeId, now]);
    }
    const due = await manager.query<{ id: string }[]>(
      `SELECT id FROM executions WHERE node_id = $1 AND released_at IS NULL`,
      [nodeId],
    );
    const locked = await lockExecutionsWithTasks(
      manager,
      due.map((row) => row.id),
    );
    const ended = await giveUpExecutions(deps, manager, 'NodeRevoked', locked.values(), now, () => ({
      revokedBy: actor.userId,
    }));
    await new WriteBatch()
      .add(
        nodeEventsPart([
          {
            orgId: actor.orgId,
            nodeId,
            type: 'NodeRevoked',
            actor: actor.userId,
            data: {
              executionsGivenUp: ended,
              ...(credential
                ? { brokerUsername: credential.brokerUsername, credentialsVersion: credential.version }
                : {}),
            },
            occurredAt: now,
          },
        ]),
      )
      .run(manager);
    await notifyDispatchers(manager);
    return { hadCredentials: credential !== null, ended };
  });
  if (changed) {
    const synced = changed.hadCredentials ? await syncNodeCredentialsNow(deps, nodeId) : true;
    deps.logger.warn(
      { nodeId, orgId: actor.orgId, by: actor.userId, executionsGivenUp: changed.ended, synced },
      'node revoked',
    );
  }
  return getNode(deps, actor, nodeId);
}
