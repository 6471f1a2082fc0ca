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

/**
 * Whether this replica could have heard every heartbeat of the last `NODE_LOST_AFTER_SECONDS`.
 * Silence means a lost node only when the control plane was listening: after its own start, a
 * broker outage or a database outage, heartbeats wait in the queue (or agents are reconnecting),
 * and `last_seen_at` is stale for every node at once. Until this replica has had its broker
 * connection and its database for a whole `NODE_LOST_AFTER_SECONDS`, it declares no node lost.
 */
export class HearingWindow {
  private since: number | null;

  constructor(
    private readonly lostAfterMs: number,
    now: number,
  ) {
    this.since = now;
  }

  /** Called before each pass with the broker's state; returns whether nodes may be declared lost. */
  check(now: number, brokerConnected: boolean): boolean {
    if (!brokerConnected) this.since = null;
    else this.since ??= now;
    return this.since !== null && now - this.since >= this.lostAfterMs;
  }

  /** A pass failed (database unreachable): heartbeats may have gone unrecorded meanwhile. */
  interrupted(): void {
    this.since = null;
  }
}

/**
 * Whether the agent-events queue holds no more than what its consumers take in one go: the
 * heartbeats and reports agents sent have been read (or are being applied). A longer queue (a
 * flood of messages, a control plane short of CPU) means a node's silence, or an execution's
 * missing end report, may only be waiting in it: verdicts that would act on silence wait too.
 * Unknown (the broker cannot say) counts as not caught up.
 */
export function isCaughtUp(readyMessages: number | undefined, prefetch: number): boolean {
  return readyMessages !== undefined && readyMessages <= prefetch;
}

/**
 * The work loop that declares silent nodes lost and gives up their executions (every replica
 * runs one). `isHearing` tells whether heartbeats reach this replica and have all been read.
 */
export function createLostNodeSweep(deps: AppDeps, isHearing: () => Promise<boolean>): WorkLoop {
  const window = new HearingWindow(deps.defaults.nodeLostAfterSeconds * 1000, deps.clock.now().getTime());
  return new WorkLoop({
    name: 'lost-node-sweep',
    batchSize: BATCH_SIZE,
    intervalMs: lostNodeSweepIntervalMs(deps.defaults.nodeLostAfterSeconds),
    logger: deps.logger,
    pass: async () => {
      const markLost = window.check(deps.clock.now().getTime(), await isHearing());
      try {
        return await giveUpLostNodes(deps, BATCH_SIZE, { markLost });
      } catch (error) {
        window.interrupted();
        throw error;
      }
    },
  });
}
