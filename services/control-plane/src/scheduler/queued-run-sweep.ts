import type { AppDeps } from '../app/app-deps.js';
import { startQueuedRuns } from '../app/runs/start-queued-runs.js';
import { WorkLoop } from './work-loop.js';

const BATCH_SIZE = 100;

/**
 * The work loop that starts runs queued behind finished ones (every replica runs one). Woken
 * with the dispatchers (DISPATCH_CHANNEL), which every end of an execution notifies, so that a
 * queued run starts as soon as the run before it ends; `intervalMs` is the safety net.
 */
export function createQueuedRunSweep(deps: AppDeps, intervalMs: number): WorkLoop {
  return new WorkLoop({
    name: 'queued-run-sweep',
    batchSize: BATCH_SIZE,
    intervalMs,
    logger: deps.logger,
    pass: () => startQueuedRuns(deps, BATCH_SIZE),
  });
}
