import type { RunsBenchOptions } from './runs-bench.js';

/** The runs scenario's knobs (env), read once by run.ts. */
export function runsBenchOptions(env: NodeJS.ProcessEnv = process.env): RunsBenchOptions {
  const rates = (env['BENCH_RUNS_RATES'] ?? '50,100').split(',').map(Number);
  const seconds = Number(env['BENCH_RUNS_SECONDS'] ?? env['BENCH_SECONDS'] ?? 15);
  return {
    rates,
    seconds,
    bulkRate: Number(env['BENCH_BULK_RATE'] ?? 1),
    bulkSeconds: Number(env['BENCH_BULK_SECONDS'] ?? 30),
    pool: Number(env['BENCH_RUNS_POOL'] ?? 1500),
  };
}
