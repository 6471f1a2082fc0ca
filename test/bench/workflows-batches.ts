import { performance } from 'node:perf_hooks';
import type { BenchTarget } from './lifecycle-bench.js';
import { round, summarize } from './stats.js';

/**
 * Batches (sagas) of Echo tasks through the real control plane and agent: a wide fan-out and deep
 * chains, 1,000 tasks each. A batch holds at most 500 tasks, so each shape is two batches of 500
 * created together (the fan-out's second batch depends on the first one's root by its task id, which
 * counts like a dependency inside the batch). Every time comes from PostgreSQL (the events'
 * `recorded_at`, written by `clock_timestamp()`), so the bench's own polling adds nothing to them.
 */

export const BATCH_LIMIT = 500;
/**
 * The fan-out's root runs this long, so that the second batch (which depends on the root by id)
 * exists before the root completes; the root's own run is in the creation → last Completed time,
 * not in the per-step overhead.
 */
export const FAN_OUT_ROOT_DELAY_MS = 2_000;

export type BatchShape = 'fan-out' | 'chains';

export interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface BatchShapeResult {
  shape: BatchShape;
  tasks: number;
  batches: number;
  /** Chains: how many, and how deep each one is. */
  chains?: { count: number; depth: number };
  /** The HTTP calls creating the batches, together. */
  createMs: number;
  /** First batch created (its `created_at`) → last task's TaskCompleted recorded. */
  totalSeconds: number;
  /** The root's TaskCompleted → the last task's (fan-out only: the dependents' own part). */
  afterRootSeconds?: number;
  /** Batch statuses at the end. */
  batchStatuses: Record<string, number>;
  /** Dependency completed (TaskCompleted recorded) → dependent dispatched (TaskDispatched recorded). */
  overhead: Latencies;
  /** The two parts of the overhead: completion → release (TaskQueued), release → dispatch. */
  toRelease: Latencies;
  toDispatch: Latencies;
}

interface BatchTaskBody {
  name: string;
  dependsOn?: string[];
  type: 'Echo';
  targetType: string;
  targetId: string;
  payload: { index: number; delayMs?: number };
}

const step = (target: string, index: number, dependsOn: string[], delayMs?: number): BatchTaskBody => ({
  name: `t${index}`,
  ...(dependsOn.length > 0 ? { dependsOn } : {}),
  type: 'Echo',
  targetType: 'Bench',
  targetId: target,
  payload: delayMs ? { index, delayMs } : { index },
});

async function postBatch(t: BenchTarget, name: string, tasks: BatchTaskBody[]) {
  const response = await fetch(`${t.baseUrl}/api/v1/tasks/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, tasks }),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST /tasks/batch answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as { id: string; tasks: { taskId: string; name: string }[] };
}

const TERMINAL_BATCH = ['Completed', 'Failed', 'Compensated', 'Cancelled'];

async function waitUntilBatchesEnd(t: BenchTarget, ids: string[], timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { rows } = await t.db.query<{ ended: string }>(
      `SELECT count(*) AS ended FROM batches WHERE id = ANY($1) AND status = ANY($2)`,
      [ids, TERMINAL_BATCH],
    );
    if (Number(rows[0]?.ended) === ids.length) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`batches ${ids.join(', ')} did not end within ${timeoutMs} ms`);
}

const latencies = (samples: number[]): Latencies => {
  const s = summarize(samples);
  return { count: s.count, p50: round(s.p50, 1), p99: round(s.p99, 1), max: round(s.max, 1) };
};

/**
 * Per dependent: the last of its dependencies' TaskCompleted, its own first TaskQueued (the
 * release) and first TaskDispatched, all as recorded by PostgreSQL.
 */
async function stepTimings(t: BenchTarget, batchIds: string[]) {
  const { rows } = await t.db.query<{ to_release: number; to_dispatch: number; overhead: number }>(
    `WITH deps AS (
       SELECT d.task_id, max(c.recorded_at) AS completed_at
         FROM task_dependencies d
         JOIN task_events c ON c.task_id = d.depends_on_task_id AND c.type = 'TaskCompleted'
        WHERE d.task_id IN (SELECT id FROM tasks WHERE batch_id = ANY($1) AND batch_role = 'step')
        GROUP BY d.task_id)
     SELECT extract(epoch FROM q.at - deps.completed_at) * 1000 AS to_release,
            extract(epoch FROM x.at - q.at) * 1000 AS to_dispatch,
            extract(epoch FROM x.at - deps.completed_at) * 1000 AS overhead
       FROM deps
       JOIN LATERAL (SELECT min(recorded_at) AS at FROM task_events
                      WHERE task_id = deps.task_id AND type = 'TaskQueued') q ON true
       JOIN LATERAL (SELECT min(recorded_at) AS at FROM task_events
                      WHERE task_id = deps.task_id AND type = 'TaskDispatched') x ON true`,
    [batchIds],
  );
  return {
    overhead: latencies(rows.map((r) => Number(r.overhead))),
    toRelease: latencies(rows.map((r) => Number(r.to_release))),
    toDispatch: latencies(rows.map((r) => Number(r.to_dispatch))),
  };
}

async function runShape(
  t: BenchTarget,
  shape: BatchShape,
  build: (target: string) => Promise<{ ids: string[]; rootTaskId?: string }>,
  extra: Partial<BatchShapeResult>,
  timeoutMs: number,
): Promise<BatchShapeResult> {
  const target = `wf-${shape}-${Date.now()}`;
  const began = performance.now();
  const { ids, rootTaskId } = await build(target);
  const createMs = performance.now() - began;
  await waitUntilBatchesEnd(t, ids, timeoutMs);
  const { rows: span } = await t.db.query<{ total: number; after_root: number | null; tasks: string }>(
    `SELECT extract(epoch FROM max(e.recorded_at) - (SELECT min(created_at) FROM batches WHERE id = ANY($1))) AS total,
            extract(epoch FROM max(e.recorded_at) - (SELECT max(recorded_at) FROM task_events
                     WHERE task_id = $2::uuid AND type = 'TaskCompleted')) AS after_root,
            count(DISTINCT e.task_id) AS tasks
       FROM task_events e JOIN tasks k ON k.id = e.task_id
      WHERE k.batch_id = ANY($1) AND e.type = 'TaskCompleted'`,
    [ids, rootTaskId ?? null],
  );
  const { rows: statuses } = await t.db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM batches WHERE id = ANY($1) GROUP BY status`,
    [ids],
  );
  return {
    shape,
    tasks: Number(span[0]?.tasks),
    batches: ids.length,
    ...extra,
    createMs: round(createMs, 0),
    totalSeconds: round(Number(span[0]?.total), 2),
    ...(rootTaskId ? { afterRootSeconds: round(Number(span[0]?.after_root), 2) } : {}),
    batchStatuses: Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)])),
    ...(await stepTimings(t, ids)),
  };
}

/** One root, `tasks - 1` dependents of it, over batches of BATCH_LIMIT. */
export function benchFanOut(t: BenchTarget, tasks: number, timeoutMs: number) {
  return runShape(
    t,
    'fan-out',
    async (target) => {
      const first = Array.from({ length: Math.min(tasks, BATCH_LIMIT) }, (_, i) =>
        i === 0 ? step(target, 0, [], FAN_OUT_ROOT_DELAY_MS) : step(target, i, ['t0']),
      );
      const created = await postBatch(t, `${target}-0`, first);
      const rootTaskId = created.tasks.find((task) => task.name === 't0')!.taskId;
      const rest: Promise<{ id: string }>[] = [];
      for (let from = BATCH_LIMIT; from < tasks; from += BATCH_LIMIT) {
        const part = Array.from({ length: Math.min(BATCH_LIMIT, tasks - from) }, (_, k) =>
          step(target, from + k, [rootTaskId]),
        );
        rest.push(postBatch(t, `${target}-${from / BATCH_LIMIT}`, part));
      }
      const others = await Promise.all(rest);
      return { ids: [created.id, ...others.map((b) => b.id)], rootTaskId };
    },
    {},
    timeoutMs,
  );
}

/** `count` chains `depth` deep, as many whole chains per batch as fit in BATCH_LIMIT. */
export function benchChains(t: BenchTarget, count: number, depth: number, timeoutMs: number) {
  const perBatch = Math.max(1, Math.floor(BATCH_LIMIT / depth));
  return runShape(
    t,
    'chains',
    async (target) => {
      const posts: Promise<{ id: string }>[] = [];
      for (let chain = 0; chain < count; chain += perBatch) {
        const tasks: BatchTaskBody[] = [];
        for (let c = chain; c < Math.min(count, chain + perBatch); c += 1) {
          for (let level = 0; level < depth; level += 1) {
            const index = c * depth + level;
            tasks.push(step(target, index, level === 0 ? [] : [`t${index - 1}`]));
          }
        }
        posts.push(postBatch(t, `${target}-${chain / perBatch}`, tasks));
      }
      return { ids: (await Promise.all(posts)).map((b) => b.id) };
    },
    { chains: { count, depth } },
    timeoutMs,
  );
}
