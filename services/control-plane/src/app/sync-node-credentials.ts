import type { EntityManager } from 'typeorm';
import { boundedSyncError, nextCredentialSyncAt, planCredentialSync } from '../domain/credential-sync.js';
import {
  claimDueCredential,
  lockCredential,
  recordSyncFailure,
  recordSyncSuccess,
  type CredentialRow,
} from '../persistence/node-credentials.js';
import type { AppDeps } from './app-deps.js';
import type { BrokerManagement } from './broker-management.js';

/** How long an API request waits for the sync of the node it changed before it answers anyway. */
export const INLINE_SYNC_WAIT_MS = 4000;

type Outcome = 'synced' | 'failed';

/**
 * Applies a row (locked by the caller's transaction, which is what keeps two syncs of one node
 * from interleaving) to the broker, and records the outcome on it: the version applied, or a
 * failure with its retry time. Every operation is idempotent: a retry repeats them all.
 */
async function applyCredential(
  deps: AppDeps,
  management: BrokerManagement,
  manager: EntityManager,
  row: CredentialRow,
): Promise<Outcome> {
  const revoked = row.revokedAt !== null;
  const log = deps.logger.child({
    nodeId: row.nodeId,
    brokerUsername: row.brokerUsername,
    version: row.version,
  });
  try {
    for (const operation of planCredentialSync({ ...row, revoked }, deps.topology)) {
      await management.apply(operation);
    }
  } catch (error) {
    const attempts = row.syncAttempts + 1;
    const message = error instanceof Error ? error.message : String(error);
    const nextSyncAt = nextCredentialSyncAt(deps.clock.now(), attempts, deps.random());
    await recordSyncFailure(manager, row.nodeId, { attempts, nextSyncAt, error: boundedSyncError(message) });
    log.warn({ attempts, nextSyncAt, error: message }, 'broker credentials sync failed; will retry');
    return 'failed';
  }
  await recordSyncSuccess(manager, row.nodeId, row.version);
  log.info(
    { revoked },
    revoked ? 'broker user of a revoked node removed' : 'broker user of a node provisioned',
  );
  return 'synced';
}

/**
 * One pass of the credentials sync: rows the broker is behind on, one transaction each, claimed
 * with SKIP LOCKED so that replicas share them. A failure ends the pass (the management API is
 * probably down: the other rows wait for the next pass rather than for as many timeouts).
 * Returns how many rows it handled.
 */
export async function syncDueCredentials(deps: AppDeps, limit: number): Promise<number> {
  const management = deps.brokerManagement;
  if (!management) return 0;
  let handled = 0;
  while (handled < limit) {
    const outcome = await deps.dataSource.transaction(async (manager) => {
      const row = await claimDueCredential(manager, deps.clock.now());
      return row ? applyCredential(deps, management, manager, row) : null;
    });
    if (outcome === null) break;
    handled += 1;
    if (outcome === 'failed') break;
  }
  return handled;
}

/**
 * Brings the broker in line with one node's row now (after an API change), waiting at most
 * `waitMs`; past that the sync goes on in the background and the caller answers anyway (the
 * loop retries a failure). Resolves whether the broker holds the row's version.
 */
export async function syncNodeCredentialsNow(
  deps: AppDeps,
  nodeId: string,
  waitMs: number = INLINE_SYNC_WAIT_MS,
): Promise<boolean> {
  const management = deps.brokerManagement;
  if (!management) return false;
  const sync = deps.dataSource
    .transaction(async (manager) => {
      // A sync of this node by another replica holds the row: wait for it, but not forever.
      await manager.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.ceil(waitMs)}ms`]);
      const row = await lockCredential(manager, nodeId);
      if (!row) return false;
      if (row.syncedVersion >= row.version) return true;
      return (await applyCredential(deps, management, manager, row)) === 'synced';
    })
    .catch((error: unknown) => {
      deps.logger.warn(
        { err: error, nodeId },
        'broker credentials sync could not run; the sync loop retries it',
      );
      return false;
    });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), waitMs);
    timer.unref();
  });
  try {
    return await Promise.race([sync, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
