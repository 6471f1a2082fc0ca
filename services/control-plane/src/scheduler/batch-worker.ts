import type { AppDeps } from '../app/app-deps.js';
import { advanceBatches } from '../app/batches/advance-batches.js';
import { WorkLoop } from './work-loop.js';

const BATCH_SIZE = 50;
/**
 * The safety poll: NOTIFY (BATCH_WAKEUP_CHANNEL) wakes the worker at once; the poll only covers a
 * notification lost while the listener reconnected.
 */
const SAFETY_POLL_MS = 5_000;

/** The batches' worker (every replica runs one): advances the batches that have wake-ups. */
export function createBatchWorker(deps: AppDeps): WorkLoop {
  return new WorkLoop({
    name: 'batches',
    batchSize: BATCH_SIZE,
    intervalMs: SAFETY_POLL_MS,
    logger: deps.logger,
    pass: () => advanceBatches(deps, BATCH_SIZE),
  });
}
