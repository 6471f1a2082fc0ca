/**
 * Event queries at a steady rate over HTTP against a real control-plane process, on a dedicated
 * database seeded with an organisation of ORG_EVENTS events, one task of TASK_EVENTS among them.
 * Part of `npm run bench`; alone: `npx tsx test/bench/events-bench.ts` (it updates its own section
 * of docs/performance.md). Knobs (env): EVENT_BENCH_RATE (requests/s, 50), EVENT_BENCH_SECONDS
 * (per scenario, 10), EVENT_BENCH_ORG_EVENTS (1000000), EVENT_BENCH_TASK_EVENTS (10000).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { EventQuerySchema } from '@meridian/contracts/api/task-event';
import { encodeEventCursor, type EventScope } from '@meridian/control-plane/domain/event-cursor';
import { eventFilterKey, eventFilterOf } from '@meridian/control-plane/domain/event-filter';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { deleteBrokerObjects } from '../support/broker.js';
import { createDatabaseIfMissing, dropDatabase } from '../support/database.js';
import { resolveInfrastructure, withDatabase } from '../support/infra.js';
import { startControlPlane, stopAllProcesses, TEST_JWT_SECRET } from '../support/processes.js';
import { signToken } from '../support/tokens.js';
import { describeMachine } from './machine.js';
import { writeEventsSection, type EventBenchResults, type ScenarioResult } from './events-report.js';
import { seedEvents } from './events-seed.js';
import { runAtFixedRate } from './open-loop.js';
import { percentile, round } from './stats.js';

const ORG_ID = 'bench-events';

export interface EventBenchOptions {
  serverUrl: string;
  amqpUrl: string;
  rate: number;
  seconds: number;
  orgEvents: number;
  taskEvents: number;
  log: (message: string) => void;
}

interface Scenario {
  name: string;
  /** Path and query under /api/v1. */
  path: string;
  /** Items a response must hold. */
  items: number;
}

/** A cursor as the control plane would have handed it out after `position`. */
function cursorAfter(
  scope: EventScope,
  query: Record<string, string>,
  position: { txId: string | null; id: string },
) {
  return encodeEventCursor(scope, eventFilterKey(eventFilterOf(EventQuerySchema.parse(query))), position);
}

async function buildScenarios(db: pg.Pool, taskId: string, taskEvents: number): Promise<Scenario[]> {
  const task: EventScope = { kind: 'task', orgId: ORG_ID, taskId };
  const org: EventScope = { kind: 'org', orgId: ORG_ID };
  const types = 'TaskTriggered,TaskRescheduled';
  const deepTask = await db.query<{ id: string }>(
    'SELECT id FROM task_events WHERE task_id = $1 ORDER BY id OFFSET $2 LIMIT 1',
    [taskId, Math.floor(taskEvents * 0.9)],
  );
  const { rows: counts } = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM task_events WHERE org_id = $1',
    [ORG_ID],
  );
  const orgEvents = Number(counts[0]!.n);
  const deepOrg = await db.query<{ tx: string; id: string }>(
    'SELECT tx_id::text AS tx, id FROM task_events WHERE org_id = $1 ORDER BY tx_id, id OFFSET $2 LIMIT 1',
    [ORG_ID, Math.floor(orgEvents * 0.9)],
  );
  const deepOrgTyped = await db.query<{ tx: string; id: string }>(
    `SELECT tx_id::text AS tx, id FROM task_events WHERE org_id = $1 AND type = ANY($2::text[])
      ORDER BY tx_id, id OFFSET (SELECT count(*) * 9 / 10 FROM task_events WHERE org_id = $1 AND type = ANY($2::text[]))
      LIMIT 1`,
    [ORG_ID, types.split(',')],
  );
  const last = await db.query<{ day: string }>(
    `SELECT to_char(max(occurred_at) - interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS day
       FROM task_events WHERE org_id = $1 AND occurred_at < '2026-01-01'`,
    [ORG_ID],
  );
  const deepTaskCursor = cursorAfter(task, {}, { id: deepTask.rows[0]!.id, txId: null });
  const deepOrgCursor = cursorAfter(org, {}, { txId: deepOrg.rows[0]!.tx, id: deepOrg.rows[0]!.id });
  const deepTypedCursor = cursorAfter(
    org,
    { types },
    { txId: deepOrgTyped.rows[0]!.tx, id: deepOrgTyped.rows[0]!.id },
  );
  const lastDay = last.rows[0]!.day;
  return [
    {
      name: `Task (${taskEvents.toLocaleString('en')} events): first page`,
      path: `/tasks/${taskId}/events?limit=100`,
      items: 100,
    },
    {
      name: 'Task: types + 10-day from/to range',
      path: `/tasks/${taskId}/events?types=${types}&from=2025-01-08&to=2025-01-17&limit=100`,
      items: 100,
    },
    {
      name: 'Task: deep page (cursor at 90 %)',
      path: `/tasks/${taskId}/events?limit=100&cursor=${deepTaskCursor}`,
      items: 100,
    },
    {
      name: `Org (${orgEvents.toLocaleString('en')} events): first page`,
      path: '/events?limit=100',
      items: 100,
    },
    { name: 'Org: types (0.5 % of events)', path: `/events?types=${types}&limit=100`, items: 100 },
    {
      name: 'Org: deep page (cursor at 90 %)',
      path: `/events?limit=100&cursor=${deepOrgCursor}`,
      items: 100,
    },
    {
      name: 'Org: types, deep page (cursor at 90 %)',
      path: `/events?types=${types}&limit=100&cursor=${deepTypedCursor}`,
      items: 100,
    },
    { name: 'Org: the last day (from)', path: `/events?from=${lastDay}&limit=100`, items: 100 },
  ];
}

async function measure(baseUrl: string, token: string, scenario: Scenario, rate: number, seconds: number) {
  const url = `${baseUrl}/api/v1${scenario.path}`;
  const get = async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { items?: unknown[] };
    if (response.status !== 200 || body.items?.length !== scenario.items) {
      throw new Error(`${scenario.path}: ${response.status}, ${body.items?.length} items`);
    }
  };
  for (let i = 0; i < 20; i += 1) await get(); // warm-up: connections, plans, cache
  const result = await runAtFixedRate(rate, seconds * 1000, get);
  const ms = (p: number) => round(percentile(result.latencies, p), 1);
  return {
    name: scenario.name,
    path: scenario.path.replace(/cursor=[^&]+/, 'cursor=…').replace(/\/tasks\/[^/]+\//, '/tasks/{id}/'),
    count: result.latencies.length,
    failures: result.failures,
    errors: result.errors,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    max: ms(100),
  } satisfies ScenarioResult;
}

export async function benchEventQueries(options: EventBenchOptions): Promise<EventBenchResults> {
  const { log } = options;
  const databaseName = `meridian_bench_events_${randomBytes(4).toString('hex')}`;
  await createDatabaseIfMissing(options.serverUrl, databaseName);
  const databaseUrl = withDatabase(options.serverUrl, databaseName);
  await runMigrations(databaseUrl);
  const prefix = `bench-events-${randomBytes(4).toString('hex')}`;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const controlPlane = await startControlPlane({
      databaseUrl,
      amqpUrl: options.amqpUrl,
      prefix,
      env: { LOG_LEVEL: 'warn' },
    });
    const token = await signToken({
      secret: TEST_JWT_SECRET,
      orgId: ORG_ID,
      sub: 'bench',
      permissions: ['task:write', 'task:read-events'],
    });
    const created = await fetch(`${controlPlane.baseUrl}/api/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'Echo', name: 'busy', targetType: 'Bench', targetId: 'events' }),
    });
    const taskId = ((await created.json()) as { id: string }).id;
    log(`seeding ${options.orgEvents} events (${options.taskEvents} on one task) and 200000 of a neighbour`);
    const seeded = await seedEvents(db, {
      orgId: ORG_ID,
      taskId,
      orgEvents: options.orgEvents,
      taskEvents: options.taskEvents,
      neighbourEvents: 200_000,
      days: 30,
    });
    log(`seeded in ${round(seeded.seconds, 1)} s`);
    const loadBefore = loadavg()[0] ?? Number.NaN;
    const scenarios: ScenarioResult[] = [];
    for (const scenario of await buildScenarios(db, taskId, options.taskEvents)) {
      log(`${scenario.name} at ${options.rate} req/s for ${options.seconds} s`);
      scenarios.push(await measure(controlPlane.baseUrl, token, scenario, options.rate, options.seconds));
    }
    await controlPlane.stop();
    const machine = await describeMachine(db, options.amqpUrl);
    const { rows: buffers } = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
    return {
      machine:
        `${machine.cpu}, ${machine.cores} cores, PostgreSQL ${machine.postgres} ` +
        `(shared_buffers ${buffers[0]?.shared_buffers ?? '?'})`,
      rate: options.rate,
      seconds: options.seconds,
      orgEvents: options.orgEvents,
      taskEvents: options.taskEvents,
      seedSeconds: round(seeded.seconds, 1),
      eventsPerTransaction: seeded.perTransaction,
      loadAverage: [round(loadBefore, 1), round(loadavg()[0] ?? Number.NaN, 1)],
      scenarios,
    };
  } finally {
    await db.end();
    await dropDatabase(options.serverUrl, databaseName);
    await deleteBrokerObjects(options.amqpUrl, prefix, { nodeIds: [] });
  }
}

export function eventBenchOptionsFromEnv(serverUrl: string, amqpUrl: string, log: (m: string) => void) {
  return {
    serverUrl,
    amqpUrl,
    log,
    rate: Number(process.env['EVENT_BENCH_RATE'] ?? 50),
    seconds: Number(process.env['EVENT_BENCH_SECONDS'] ?? 10),
    orgEvents: Number(process.env['EVENT_BENCH_ORG_EVENTS'] ?? 1_000_000),
    taskEvents: Number(process.env['EVENT_BENCH_TASK_EVENTS'] ?? 10_000),
  } satisfies EventBenchOptions;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const log = (message: string) => console.log(`[events-bench] ${message}`);
  const infra = await resolveInfrastructure({ log });
  try {
    const results = await benchEventQueries(eventBenchOptionsFromEnv(infra.databaseUrl, infra.amqpUrl, log));
    console.log(JSON.stringify(results, null, 2));
    writeEventsSection(results);
  } finally {
    await stopAllProcesses();
    await infra.stop();
  }
}
