import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BulkResult } from '@meridian/contracts/api/task-run';
import { echoTask, postTask, waitUntilFinished, type BenchTarget } from './lifecycle-bench.js';
import { runAtFixedRate, runWithConcurrency } from './open-loop.js';
import { percentile, round, summarize } from './stats.js';

/**
 * Trigger and reschedule latencies, single and bulk, against the real control plane over HTTP at
 * steady open-loop rates. Every call acts on a task of one pool of Echo tasks that are Completed
 * when the phase starts (so a trigger starts a new run at once, a `delayed` reschedule starts a
 * new run due 2 s later); the runs they start are dispatched and completed by the real agent while
 * the phase goes on. Between phases the bench waits until the whole pool is Completed again.
 */

/** Items of one bulk call: the size seed 000's target names (2 s for 100 tasks). */
export const BULK_ITEMS = 100;
/** Far from any bench run, so that the cron phase starts no runs of its own. */
const CRON = { strategy: 'cron', expression: '0 3 * * *', timezone: 'Europe/London' } as const;
const DELAYED = { strategy: 'delayed', delay: '2s' } as const;
const POOL_TARGET = 'runs-pool';

/**
 * Control-plane env for the bench: the per-user, per-org and system limits would refuse a steady
 * 100 calls/s within a minute, so they are raised out of the way. The per-task limit (100/hour)
 * stays as configured by default: the bench spreads its calls over the pool so that no task comes
 * near it (each task gets a few calls per run).
 */
export const RUNS_BENCH_ENV = {
  TRIGGER_LIMIT_PER_USER_PER_HOUR: '100000000',
  TRIGGER_LIMIT_PER_ORG_PER_HOUR: '100000000',
  TRIGGER_LIMIT_SYSTEM_PER_MINUTE: '100000000',
};

export const RUNS_BENCH_PERMISSIONS = ['task:trigger', 'task:reschedule'] as const;

export interface RunsBenchOptions {
  /** Calls per second of the single-task phases: each phase runs once at each rate. */
  rates: number[];
  /** Length of each single-task phase. */
  seconds: number;
  /** Bulk calls per second. */
  bulkRate: number;
  /** Length of each bulk phase. */
  bulkSeconds: number;
  /** Tasks in the pool; at least Σ rate × seconds, so that the single-task phases call each task at most once. */
  pool: number;
}

export interface PhaseLatency {
  rate: number;
  durationMs: number;
  count: number;
  failures: number;
  errors: string[];
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SingleCallLatencies {
  trigger: PhaseLatency;
  rescheduleDelayed: PhaseLatency;
  rescheduleCron: PhaseLatency;
}

export interface RunsBenchResults {
  options: RunsBenchOptions;
  limits: typeof RUNS_BENCH_ENV;
  /** One entry per rate of `options.rates`. */
  single: SingleCallLatencies[];
  bulkTrigger: PhaseLatency;
  bulkReschedule: PhaseLatency;
  /** Wall-clock seconds of the whole scenario, pool creation included. */
  totalSeconds: number;
  /** 1-minute load average before and after the scenario: other work on the machine shows here. */
  loadAverage: [number, number];
}

async function call(t: BenchTarget, method: string, path: string, body: unknown, expected: number) {
  const response = await fetch(`${t.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return text;
}

/** A bulk call answers 200 whatever its items did: each item must have been applied. */
async function bulkCall(t: BenchTarget, method: string, path: string, body: unknown) {
  const result = JSON.parse(await call(t, method, path, body, 200)) as BulkResult;
  if (result.failed > 0) {
    const first = result.results.find((item) => item.problem);
    throw new Error(`${path}: ${result.failed} items failed, e.g. ${JSON.stringify(first?.problem)}`);
  }
}

async function phase(
  rate: number,
  durationMs: number,
  action: (index: number) => Promise<void>,
): Promise<PhaseLatency> {
  const result = await runAtFixedRate(rate, durationMs, action);
  return {
    rate,
    durationMs,
    ...summarize(result.latencies),
    p95: percentile(result.latencies, 95),
    failures: result.failures,
    errors: result.errors,
  };
}

export async function benchRuns(
  t: BenchTarget,
  options: RunsBenchOptions,
  log: (message: string) => void,
): Promise<RunsBenchResults> {
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const { rates, seconds, bulkRate, bulkSeconds } = options;
  const perRate = rates.map((rate) => Math.round(rate * seconds));
  const poolSize = Math.max(
    options.pool,
    perRate.reduce((sum, n) => sum + n, 0),
    BULK_ITEMS,
  );
  log(`runs: a pool of ${poolSize} Completed Echo tasks`);
  const pool: string[] = new Array<string>(poolSize);
  await runWithConcurrency(poolSize, 32, async (i) => {
    pool[i] = await postTask(t, echoTask(POOL_TARGET, i));
  });
  const settle = async () => {
    await waitUntilFinished(t, POOL_TARGET, poolSize, 120_000);
  };
  await settle();

  const taskAt = (index: number) => pool[index % poolSize]!;
  /** Call `index` of a bulk phase takes the next BULK_ITEMS tasks of the pool, round the end. */
  const bulkTasks = (index: number) =>
    Array.from({ length: BULK_ITEMS }, (_, k) => taskAt(index * BULK_ITEMS + k));
  const trigger = (i: number) => call(t, 'POST', `/tasks/${taskAt(i)}/trigger`, {}, 202);
  const reschedule = (body: object) => (i: number) =>
    call(t, 'PUT', `/tasks/${taskAt(i)}/reschedule`, body, 200);
  const bulkTrigger = (i: number) =>
    bulkCall(t, 'POST', '/tasks/bulk/trigger', { tasks: bulkTasks(i).map((taskId) => ({ taskId })) });
  const bulkReschedule = (i: number) =>
    bulkCall(t, 'PUT', '/tasks/bulk/reschedule', {
      tasks: bulkTasks(i).map((taskId) => ({ taskId, ...DELAYED })),
    });

  log('runs: warm-up');
  for (let i = 0; i < 20; i += 1) await trigger(i);
  for (let i = 20; i < 40; i += 1) await reschedule(DELAYED)(i);
  for (let i = 40; i < 60; i += 1) await reschedule(CRON)(i);
  await settle();
  await bulkTrigger(1);
  await settle();
  await bulkReschedule(2);
  await settle();

  const single: SingleCallLatencies[] = [];
  // Each rate has a part of the pool of its own: its phases find the same tasks in the same state.
  let offset = 0;
  for (const [r, rate] of rates.entries()) {
    const at = offset;
    offset += perRate[r]!;
    const run = async (name: string, action: (i: number) => Promise<unknown>) => {
      log(`runs: ${name} at ${rate}/s for ${seconds} s`);
      const latency = await phase(rate, seconds * 1000, async (i) => {
        await action(at + i);
      });
      await settle();
      return latency;
    };
    single.push({
      trigger: await run('POST /tasks/{id}/trigger', trigger),
      rescheduleDelayed: await run('PUT /tasks/{id}/reschedule delayed', reschedule(DELAYED)),
      rescheduleCron: await run('PUT /tasks/{id}/reschedule cron', reschedule(CRON)),
    });
  }
  log(`runs: POST /tasks/bulk/trigger (${BULK_ITEMS} tasks) at ${bulkRate}/s for ${bulkSeconds} s`);
  const bulkTriggerLatency = await phase(bulkRate, bulkSeconds * 1000, bulkTrigger);
  await settle();
  log(`runs: PUT /tasks/bulk/reschedule (${BULK_ITEMS} delayed) at ${bulkRate}/s for ${bulkSeconds} s`);
  const bulkRescheduleLatency = await phase(bulkRate, bulkSeconds * 1000, bulkReschedule);
  await settle();

  return {
    options: { ...options, pool: poolSize },
    limits: RUNS_BENCH_ENV,
    single,
    bulkTrigger: bulkTriggerLatency,
    bulkReschedule: bulkRescheduleLatency,
    totalSeconds: Math.round((performance.now() - started) / 1000),
    loadAverage: [round(loadBefore, 1), round(loadavg()[0]!, 1)],
  };
}
