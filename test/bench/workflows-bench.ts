import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchTarget } from './lifecycle-bench.js';
import { round } from './stats.js';
import { benchChains, benchFanOut, type BatchShapeResult } from './workflows-batches.js';
import { benchRecurring, type RecurringResult } from './workflows-recurring.js';

/** The workflows scenario (`BENCH_ONLY=workflows`): batches as a fan-out and as chains, then recurring tasks. */

export interface WorkflowsBenchOptions {
  /** Tasks of the fan-out (one root, the others its dependents). */
  fanOut: number;
  /** Chains, and the depth of each. */
  chains: number;
  depth: number;
  /** Recurring tasks due in the same minute. */
  recurring: number;
  /** One recurring round per entry: how many control planes run while the minute fires. */
  replicas: number[];
}

export function workflowsBenchOptions(env: NodeJS.ProcessEnv = process.env): WorkflowsBenchOptions {
  return {
    fanOut: Number(env['BENCH_WF_FAN_OUT'] ?? 1000),
    chains: Number(env['BENCH_WF_CHAINS'] ?? 10),
    depth: Number(env['BENCH_WF_DEPTH'] ?? 100),
    recurring: Number(env['BENCH_WF_RECURRING'] ?? 10_000),
    replicas: (env['BENCH_WF_REPLICAS'] ?? '1').split(',').map(Number),
  };
}

export interface WorkflowsBenchResults {
  options: WorkflowsBenchOptions;
  /** Echo slots of the agent. */
  capacity: number;
  fanOut: BatchShapeResult;
  chains: BatchShapeResult;
  recurring: RecurringResult[];
  totalSeconds: number;
  /** 1-minute load average before and after: other work on the machine shows here. */
  loadAverage: [number, number];
}

const BATCH_TIMEOUT_MS = 600_000;
const RECURRING_TIMEOUT_MS = 600_000;

export async function benchWorkflows(
  t: BenchTarget,
  options: WorkflowsBenchOptions,
  capacity: number,
  addReplicas: (extra: number) => Promise<() => Promise<void>>,
  log: (message: string) => void,
): Promise<WorkflowsBenchResults> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  log('workflows: warm-up (a 100-task fan-out)');
  await benchFanOut(t, 100, BATCH_TIMEOUT_MS);
  log(`workflows: a ${options.fanOut}-task fan-out`);
  const fanOut = await benchFanOut(t, options.fanOut, BATCH_TIMEOUT_MS);
  log(`workflows: ${options.chains} chains ${options.depth} deep`);
  const chains = await benchChains(t, options.chains, options.depth, BATCH_TIMEOUT_MS);
  const recurring: RecurringResult[] = [];
  for (const replicas of options.replicas) {
    const count = options.recurring;
    recurring.push(
      await benchRecurring(t, { count, replicas, timeoutMs: RECURRING_TIMEOUT_MS }, addReplicas, log),
    );
  }
  return {
    options,
    capacity,
    fanOut,
    chains,
    recurring,
    totalSeconds: Math.round((performance.now() - started) / 1000),
    loadAverage: [round(loadBefore, 1), round(loadavg()[0]!, 1)],
  };
}
