/**
 * `npm run bench`: the real control plane and one real agent on the local (or configured)
 * PostgreSQL and RabbitMQ, driven over HTTP; figures written to docs/performance.md.
 *
 * Knobs (env): BENCH_TASKS (10000), BENCH_CAPACITY (agent slots, default 100), BENCH_SECONDS (15),
 * CONSUMER_PREFETCH (500) and CONSUMER_BATCH_SIZE (200) for the control plane; the event-query
 * scenario's knobs are in events-bench.ts, the runs scenario's in runs-bench-options.ts. BENCH_ONLY,
 * a comma list of scenarios (lifecycle, events, runs, workflows), runs only those; the workflows
 * scenario's knobs are in workflows-bench.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { createDatabaseIfMissing, dropDatabase } from '../support/database.js';
import { resolveInfrastructure, withDatabase } from '../support/infra.js';
import { deleteBrokerObjects } from '../support/broker.js';
import { startAgent, startControlPlane, stopAllProcesses, TEST_JWT_SECRET } from '../support/processes.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';
import {
  benchDispatchLatency,
  benchPostLatency,
  benchThroughput,
  type BenchTarget,
} from './lifecycle-bench.js';
import { benchEventQueries, eventBenchOptionsFromEnv } from './events-bench.js';
import { writeEventsSection } from './events-report.js';
import { benchLogStream } from './logs-bench.js';
import { describeMachine } from './machine.js';
import { renderReport } from './report.js';
import { sampleRss } from './rss-sampler.js';
import { benchRuns, RUNS_BENCH_ENV, RUNS_BENCH_PERMISSIONS } from './runs-bench.js';
import { runsBenchOptions } from './runs-bench-options.js';
import { renderRunsSection, withRunsSection } from './runs-report.js';
import { benchWorkflows, workflowsBenchOptions } from './workflows-bench.js';
import { renderWorkflowsSection, withWorkflowsSection } from './workflows-report.js';

const TASKS = Number(process.env['BENCH_TASKS'] ?? 10_000);
const CAPACITY = Number(process.env['BENCH_CAPACITY'] ?? 100);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const CONSUMER = {
  prefetch: Number(process.env['CONSUMER_PREFETCH'] ?? 500),
  batchSize: Number(process.env['CONSUMER_BATCH_SIZE'] ?? 200),
};
const ONLY = process.env['BENCH_ONLY']?.split(',');
const wants = (scenario: string) => !ONLY || ONLY.includes(scenario);
const OUTPUT = new URL('../../docs/performance.md', import.meta.url);

const log = (message: string) => console.log(`[bench] ${message}`);

const infra = await resolveInfrastructure({ log });
const databaseName = `meridian_bench_${randomBytes(4).toString('hex')}`;
await createDatabaseIfMissing(infra.databaseUrl, databaseName);
const databaseUrl = withDatabase(infra.databaseUrl, databaseName);
await runMigrations(databaseUrl);
const prefix = `bench-${randomBytes(4).toString('hex')}`;
const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });

try {
  const startBenchControlPlane = () =>
    startControlPlane({
      databaseUrl,
      amqpUrl: infra.amqpUrl,
      prefix,
      env: { LOG_LEVEL: 'warn', MAX_CONCURRENT_TASKS_PER_NODE: String(CAPACITY), ...RUNS_BENCH_ENV },
    });
  const controlPlane = await startBenchControlPlane();
  const agent = await startAgent({
    amqpUrl: infra.amqpUrl,
    prefix,
    nodeId: 'bench-node',
    orgId: 'bench-org',
    maxConcurrency: CAPACITY,
  });
  const token = await signToken({
    secret: TEST_JWT_SECRET,
    orgId: 'bench-org',
    sub: 'bench',
    permissions: ['task:read', 'task:write', 'node:read', ...RUNS_BENCH_PERMISSIONS],
  });
  await waitFor(
    async () => {
      const response = await fetch(`${controlPlane.baseUrl}/api/v1/nodes/bench-node`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return response.status === 200 && ((await response.json()) as { status: string }).status === 'online';
    },
    { timeoutMs: 30_000, description: 'the bench node to be online' },
  );
  const target: BenchTarget = { baseUrl: controlPlane.baseUrl, token, db, nodeId: 'bench-node' };
  if (wants('lifecycle')) {
    const rss = sampleRss({ controlPlane: controlPlane.pid, agent: agent.pid });

    log('warm-up');
    await benchThroughput(target, 500, 32);
    log(`POST latency at 200 req/s for ${SECONDS} s`);
    const post = await benchPostLatency(target, 200, SECONDS * 1000);
    log(`dispatch latency at 100 tasks/s for ${SECONDS} s`);
    const dispatch = await benchDispatchLatency(target, 100, SECONDS * 1000);
    log(`full lifecycle of ${TASKS} Echo tasks`);
    const throughput = await benchThroughput(target, TASKS, 64);
    log('log stream: 5,000 lines paced at ~1,000 lines/s, then 100,000 lines as fast as printed');
    const logsPaced = await benchLogStream(target, 5000, 1000);
    const logsFlood = await benchLogStream(target, 100_000, 0);
    const memory = rss.stop();

    const machine = await describeMachine(db, infra.amqpUrl);
    const results = {
      machine,
      capacity: CAPACITY,
      post,
      dispatch,
      throughput,
      memory,
      consumer: CONSUMER,
      logs: { paced: logsPaced, flood: logsFlood },
    };
    console.log(JSON.stringify(results, null, 2));
    writeFileSync(OUTPUT, renderReport(results, existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : ''));
    log(`written to ${OUTPUT.pathname}`);
  }
  if (wants('events')) {
    log('event queries, on a database of their own');
    const events = await benchEventQueries(eventBenchOptionsFromEnv(infra.databaseUrl, infra.amqpUrl, log));
    console.log(JSON.stringify(events, null, 2));
    writeEventsSection(events);
  }
  if (wants('runs')) {
    const runs = await benchRuns(target, runsBenchOptions(), log);
    console.log(JSON.stringify(runs, null, 2));
    const section = renderRunsSection(runs, await describeMachine(db, infra.amqpUrl), new Date());
    writeFileSync(OUTPUT, withRunsSection(existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '', section));
    log(`runs: written to ${OUTPUT.pathname}`);
  }
  if (wants('workflows')) {
    const addReplicas = async (extra: number) => {
      const replicas = await Promise.all(Array.from({ length: extra }, () => startBenchControlPlane()));
      return async () => {
        await Promise.all(replicas.map((replica) => replica.stop()));
      };
    };
    const workflows = await benchWorkflows(target, workflowsBenchOptions(), CAPACITY, addReplicas, log);
    console.log(JSON.stringify(workflows, null, 2));
    const section = renderWorkflowsSection(workflows, await describeMachine(db, infra.amqpUrl), new Date());
    writeFileSync(
      OUTPUT,
      withWorkflowsSection(existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '', section),
    );
    log(`workflows: written to ${OUTPUT.pathname}`);
  }
} finally {
  await stopAllProcesses();
  await db.end();
  await dropDatabase(infra.databaseUrl, databaseName);
  await deleteBrokerObjects(infra.amqpUrl, prefix, { nodeIds: ['bench-node'] });
  await infra.stop();
}
