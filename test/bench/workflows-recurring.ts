import { performance } from 'node:perf_hooks';
import type { BenchTarget } from './lifecycle-bench.js';
import { runWithConcurrency } from './open-loop.js';
import { round, summarize } from './stats.js';
import type { Latencies } from './workflows-batches.js';

/**
 * Recurring tasks: `count` enabled recurring tasks whose schedule is the same minute of the day
 * (`M H * * *`, UTC), created over HTTP before that minute comes; then the time the control
 * plane(s) take to fire that minute's occurrences, each of which creates one Echo task. The
 * minute is chosen from the creation rate measured on a probe of disabled recurring tasks (which
 * stay in the table: a disabled one must fire nothing).
 */

const PROBE = 100;
const CREATE_CONCURRENCY = 16;
/** Room left after the creation's estimated end before the chosen minute. */
const MARGIN_MS = 20_000;

export interface RecurringResult {
  recurringTasks: number;
  disabled: number;
  /** Control-plane processes running the recurring loop while the minute fired. */
  replicas: number;
  createSeconds: number;
  scheduledFor: string;
  /** Occurrences recorded for the minute, with a task created / skipped. */
  created: number;
  skipped: number;
  /** Tasks of the bench's target: exactly one per occurrence. */
  tasks: number;
  /** Occurrences of the disabled probes: must be 0. */
  disabledFired: number;
  /** The minute's start → the last occurrence's task created (TaskCreated recorded). */
  fireSeconds: number;
  /** The minute's start → each occurrence's task created, in ms. */
  lag: Latencies;
  occurrencesPerSecond: number;
}

async function postRecurring(t: BenchTarget, body: object): Promise<string> {
  const response = await fetch(`${t.baseUrl}/api/v1/tasks/recurring`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST /tasks/recurring answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return (JSON.parse(text) as { id: string }).id;
}

const definition = (target: string, index: number, schedule: string, enabled: boolean) => ({
  name: `${target}-${index}`,
  type: 'Echo',
  targetType: 'Bench',
  targetId: target,
  payload: { index },
  schedule,
  timezone: 'UTC',
  enabled,
});

const MINUTE_MS = 60_000;

/**
 * `addReplicas` starts the extra control planes (if any) once the recurring tasks exist and before
 * the minute comes; it returns a function that stops them.
 */
export async function benchRecurring(
  t: BenchTarget,
  options: { count: number; replicas: number; timeoutMs: number },
  addReplicas: (extra: number) => Promise<() => Promise<void>>,
  log: (message: string) => void,
): Promise<RecurringResult> {
  const target = `wf-recurring-${options.replicas}-${Date.now()}`;
  const probeStart = performance.now();
  const probeIds: string[] = [];
  await runWithConcurrency(PROBE, CREATE_CONCURRENCY, async (i) => {
    probeIds.push(await postRecurring(t, definition(`${target}-probe`, i, '* * * * *', false)));
  });
  const perTaskMs = (performance.now() - probeStart) / PROBE;
  const expectedEnd = Date.now() + perTaskMs * options.count * 1.5 + MARGIN_MS;
  const minute = new Date(Math.ceil(expectedEnd / MINUTE_MS) * MINUTE_MS);
  const schedule = `${minute.getUTCMinutes()} ${minute.getUTCHours()} * * *`;
  log(
    `recurring: ${options.count} recurring tasks at "${schedule}" UTC (${minute.toISOString()}), ` +
      `${options.replicas} control plane(s); creation ≈ ${round(perTaskMs, 1)} ms per task`,
  );
  const createStart = performance.now();
  const ids: string[] = [];
  await runWithConcurrency(options.count, CREATE_CONCURRENCY, async (i) => {
    ids.push(await postRecurring(t, definition(target, i, schedule, true)));
  });
  const createSeconds = (performance.now() - createStart) / 1000;
  if (Date.now() > minute.getTime() - 2_000) {
    throw new Error(
      `creating the recurring tasks took too long: the minute ${minute.toISOString()} came first`,
    );
  }
  const stopReplicas = await addReplicas(options.replicas - 1);
  try {
    const deadline = minute.getTime() + options.timeoutMs;
    for (;;) {
      // By the minute alone (only this round's recurring tasks are due then): a list of 10,000 ids
      // in every poll cost PostgreSQL CPU that the control plane needed.
      const { rows } = await t.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM recurring_occurrences WHERE scheduled_for = $1`,
        [minute],
      );
      if (Number(rows[0]?.n) >= ids.length) break;
      if (Date.now() > deadline) {
        throw new Error(`${rows[0]?.n} of ${ids.length} occurrences fired within ${options.timeoutMs} ms`);
      }
      // The figures come from the rows' own times: the poll only has to notice the end.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  } finally {
    await stopReplicas();
  }

  const { rows: outcomes } = await t.db.query<{ outcome: string; n: string }>(
    `SELECT outcome, count(*) AS n FROM recurring_occurrences
      WHERE recurring_task_id = ANY($1) AND scheduled_for = $2 GROUP BY outcome`,
    [ids, minute],
  );
  const byOutcome = Object.fromEntries(outcomes.map((r) => [r.outcome, Number(r.n)]));
  const { rows: lags } = await t.db.query<{ ms: number }>(
    `SELECT extract(epoch FROM e.recorded_at - $2::timestamptz) * 1000 AS ms
       FROM recurring_occurrences o
       JOIN task_events e ON e.task_id = o.task_id AND e.type = 'TaskCreated'
      WHERE o.recurring_task_id = ANY($1) AND o.scheduled_for = $2`,
    [ids, minute],
  );
  const { rows: tasks } = await t.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM tasks WHERE target_id = $1`,
    [target],
  );
  const { rows: disabled } = await t.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM recurring_occurrences WHERE recurring_task_id = ANY($1)`,
    [probeIds],
  );
  const samples = lags.map((r) => Number(r.ms));
  const s = summarize(samples);
  return {
    recurringTasks: ids.length,
    disabled: probeIds.length,
    replicas: options.replicas,
    createSeconds: round(createSeconds, 1),
    scheduledFor: minute.toISOString(),
    created: byOutcome['created'] ?? 0,
    skipped: byOutcome['skipped'] ?? 0,
    tasks: Number(tasks[0]?.n),
    disabledFired: Number(disabled[0]?.n),
    fireSeconds: round(s.max / 1000, 2),
    lag: { count: s.count, p50: round(s.p50, 0), p99: round(s.p99, 0), max: round(s.max, 0) },
    occurrencesPerSecond: round(s.count / (s.max / 1000), 0),
  };
}
