import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { runAtFixedRate, runWithConcurrency } from './open-loop.js';
import { round, summarize } from './stats.js';

export interface BenchTarget {
  baseUrl: string;
  token: string;
  db: pg.Pool;
  nodeId: string;
}

export function echoTask(target: string, index: number) {
  return {
    type: 'Echo',
    name: `bench-${target}-${index}`,
    targetType: 'Bench',
    targetId: target,
    payload: { index },
  };
}

export async function postTask(t: BenchTarget, body: object): Promise<string> {
  const response = await fetch(`${t.baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { id?: string };
  if (response.status !== 201 || !json.id) throw new Error(`POST /tasks answered ${response.status}`);
  return json.id;
}

/** Waits until every task with this target id is finished; returns when that happened. */
export async function waitUntilFinished(
  t: BenchTarget,
  target: string,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { rows } = await t.db.query<{ done: string }>(
      `SELECT count(*) AS done FROM tasks WHERE target_id = $1 AND status IN ('Completed','Failed','Timeout','Cancelled')`,
      [target],
    );
    if (Number(rows[0]?.done) >= expected) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`tasks of ${target} did not all finish within ${timeoutMs} ms`);
}

/** POST /tasks latency under a steady open-loop rate. */
export async function benchPostLatency(t: BenchTarget, rate: number, durationMs: number) {
  const target = `post-${Date.now()}`;
  const result = await runAtFixedRate(rate, durationMs, async (i) => {
    await postTask(t, echoTask(target, i));
  });
  await waitUntilFinished(t, target, result.latencies.length, 120_000);
  return {
    rate,
    durationMs,
    failures: result.failures,
    errors: result.errors,
    ...summarize(result.latencies),
  };
}

/** Task created → agent started (the agent's TaskStarted time), at a steady rate. */
export async function benchDispatchLatency(t: BenchTarget, rate: number, durationMs: number) {
  const target = `dispatch-${Date.now()}`;
  const result = await runAtFixedRate(rate, durationMs, async (i) => {
    await postTask(t, echoTask(target, i));
  });
  await waitUntilFinished(t, target, result.latencies.length, 120_000);
  const { rows } = await t.db.query<{ ms: number }>(
    `SELECT extract(epoch FROM (e.started_at - t.created_at)) * 1000 AS ms
       FROM tasks t JOIN executions e ON e.task_id = t.id AND e.attempt = 1
      WHERE t.target_id = $1 AND e.started_at IS NOT NULL`,
    [target],
  );
  return { rate, durationMs, failures: result.failures, ...summarize(rows.map((row) => Number(row.ms))) };
}

/** Many Echo tasks as fast as the API takes them; created → Completed in Postgres. */
export async function benchThroughput(t: BenchTarget, total: number, concurrency: number) {
  const target = `throughput-${Date.now()}`;
  const start = performance.now();
  await runWithConcurrency(total, concurrency, async (i) => {
    await postTask(t, echoTask(target, i));
  });
  const created = performance.now();
  const finished = await waitUntilFinished(t, target, total, 600_000);
  const { rows } = await t.db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM tasks WHERE target_id = $1 GROUP BY status`,
    [target],
  );
  const seconds = (finished - start) / 1000;
  return {
    total,
    concurrency,
    createSeconds: round((created - start) / 1000, 2),
    totalSeconds: round(seconds, 2),
    tasksPerSecond: round(total / seconds, 0),
    statuses: Object.fromEntries(rows.map((row) => [row.status, Number(row.n)])),
  };
}
