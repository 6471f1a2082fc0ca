import type { AppDeps } from '../app/app-deps.js';
import { giveUpLostNodes } from '../app/give-up-lost-nodes.js';
import { WorkLoop } from './work-loop.js';

const BATCH_SIZE = 100;

/**
 * How often the sweep looks for lost nodes: three times per `NODE_LOST_AFTER_SECONDS`, at most
 * every 5 s, so that a node is declared lost at most a third late (40 s for the default 30 s).
 */
export function lostNodeSweepIntervalMs(nodeLostAfterSeconds: number): number {
  return Math.max(200, Math.min(5000, Math.floor((nodeLostAfterSeconds * 1000) / 3)));
}

/** The work loop that declares silent nodes lost and gives up their executions (every replica runs one). */
export function createLostNodeSweep(deps: AppDeps): WorkLoop {
  return new WorkLoop({
    name: 'lost-node-sweep',
    batchSize: BATCH_SIZE,
    intervalMs: lostNodeSweepIntervalMs(deps.defaults.nodeLostAfterSeconds),
    logger: deps.logger,
    pass: () => giveUpLostNodes(deps, BATCH_SIZE),
  });
}
