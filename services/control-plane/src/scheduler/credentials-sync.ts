import type { AppDeps } from '../app/app-deps.js';
import { syncDueCredentials } from '../app/sync-node-credentials.js';
import { WorkLoop } from './work-loop.js';

const BATCH_SIZE = 50;
/**
 * API requests sync the rows they change at once; this loop retries the syncs that failed (their
 * backoff starts at a second) and picks up rows another replica left half done.
 */
const INTERVAL_MS = 1000;

/** The work loop that brings the broker's users in line with `node_credentials` (every replica runs one). */
export function createCredentialsSync(deps: AppDeps): WorkLoop {
  return new WorkLoop({
    name: 'credentials-sync',
    batchSize: BATCH_SIZE,
    intervalMs: INTERVAL_MS,
    logger: deps.logger,
    pass: () => syncDueCredentials(deps, BATCH_SIZE),
  });
}
