import { performance } from 'node:perf_hooks';

/**
 * Fires `action` at a fixed rate for `durationMs`, whether or not earlier calls have finished
 * (an open loop: a slow server cannot slow the load down and hide its own latency). Returns
 * each call's latency in milliseconds and the number of failures.
 */
export async function runAtFixedRate(
  ratePerSecond: number,
  durationMs: number,
  action: (index: number) => Promise<void>,
): Promise<{ latencies: number[]; failures: number; errors: string[] }> {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const intervalMs = 1000 / ratePerSecond;
  const latencies: number[] = [];
  const errors: string[] = [];
  const calls: Promise<void>[] = [];
  const start = performance.now();
  for (let index = 0; index < total; index += 1) {
    const due = start + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    calls.push(
      (async () => {
        const began = performance.now();
        try {
          await action(index);
          latencies.push(performance.now() - began);
        } catch (error) {
          errors.push(String(error));
        }
      })(),
    );
  }
  await Promise.all(calls);
  return { latencies, failures: errors.length, errors: errors.slice(0, 5) };
}

/** Runs `action` `total` times with at most `concurrency` calls in flight. */
export async function runWithConcurrency(
  total: number,
  concurrency: number,
  action: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const index = next;
        next += 1;
        await action(index);
      }
    }),
  );
}
