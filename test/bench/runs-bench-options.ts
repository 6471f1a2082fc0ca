import type { RunsBenchOptions } from './runs-bench.js';

/** The runs scenario's knobs (env), read once by run.ts. */
export function runsBenchOptions(env: NodeJS.ProcessEnv = process.env): RunsBenchOptions {
  const rate = Number(env['BENCH_RUNS_RATE'] ?? 100);
  const seconds = Number(env['BENCH_RUNS_SECONDS'] ?? env['BENCH_SECONDS'] ?? 15);
  return {
    rate,
    seconds,
    bulkRate: Number(env['BENCH_BULK_RATE'] ?? 1),
    bulkSeconds: Number(env['BENCH_BULK_SECONDS'] ?? 30),
    pool: Number(env['BENCH_RUNS_POOL'] ?? Math.max(1500, Math.round(rate * seconds))),
  };
}
