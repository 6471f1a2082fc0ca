import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectAmqp } from 'amqplib';
import pg from 'pg';
import { topology } from '@meridian/contracts/topology';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import type { PrivateInfra } from './fault-infra.js';
import { withDatabase } from './infra.js';
import {
  startAgent,
  startControlPlane,
  TEST_JWT_SECRET,
  type AgentProcess,
  type ControlPlaneProcess,
  type ManagedProcess,
  formatLogs,
} from './processes.js';
import { killGroup, processesWhere } from './process-tree.js';
import { signToken } from './tokens.js';
import { waitFor } from './wait-for.js';

/**
 * One fault-injection scenario on the file's private broker and database: a fresh database and
 * broker prefix, real control-plane and agent processes, and tasks whose effects can be counted
 * (each `Command` appends its key to one file, once per run).
 */
export const FINAL_STATUSES = ['Completed', 'Failed', 'Timeout', 'Cancelled'];
const PERMISSIONS = ['task:read', 'task:write', 'task:read-events', 'node:read'];

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TaskRow {
  id: string;
  key: string;
  status: string;
}

export interface Tally {
  tasks: number;
  /** Tasks whose command never ran (no effect line). */
  lost: number;
  /** Effect lines beyond one per task. */
  duplicatedEffects: number;
  /** Tasks not in a final state when the scenario stopped waiting. */
  stuck: number;
  /** Tasks in a final state other than Completed. */
  wrongFinalStates: number;
  statuses: Record<string, number>;
  /** For the first tasks whose effect ran more than once: their events, to say why. */
  duplicateHistories: string[];
}

export interface Scenario {
  name: string;
  prefix: string;
  orgId: string;
  databaseUrl: string;
  db: pg.Pool;
  dir: string;
  effectsFile: string;
  token: string;
  controlPlane: ControlPlaneProcess;
  startControlPlane(options?: { port?: number; env?: Record<string, string> }): Promise<ControlPlaneProcess>;
  startAgent(
    nodeId: string,
    options?: { capacity?: number; amqpUrl?: string; env?: Record<string, string> },
  ): Promise<AgentProcess>;
  /** Waits until the control plane lists the node online. */
  waitForNodeOnline(nodeId: string, timeoutMs?: number): Promise<void>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<ApiResponse<T>>;
  /** `sh -c '<script>; echo <key> >> effects'`. */
  commandTask(key: string, script: string, extra?: Record<string, unknown>): Record<string, unknown>;
  /** Creates the tasks (a few requests at a time); resolves with their ids by key. */
  createTasks(
    keys: string[],
    script: (key: string) => string,
    options?: { concurrency?: number; extra?: Record<string, unknown>; timeoutMs?: number },
  ): Promise<TaskRow[]>;
  /** PIDs of this scenario's commands still running (any process whose command line names the effects file). */
  runningCommands(): number[];
  /** Waits until none of this scenario's commands runs any more (a crashed agent's may outlive it). */
  waitForCommandsToExit(timeoutMs?: number): Promise<void>;
  /** Effect lines per key so far. */
  effects(): Map<string, number>;
  tasks(): Promise<TaskRow[]>;
  /** Polls the database until every task is final or the deadline passes; database errors are "not yet". */
  waitUntilAllFinal(timeoutMs: number): Promise<{ allFinal: boolean; at: number }>;
  tally(expectedKeys: string[]): Promise<Tally>;
  /** The most frequent error and warning messages of the scenario's processes, `count× msg`. */
  problems(limit?: number): string[];
  /** Messages dead-lettered so far: waiting in the dead-letter queues or in the dead-letter store. */
  deadLetters(): Promise<{ agentEvents: number; logs: number }>;
  /** Messages ready in the queues the control plane consumes, dead-letter queues included. */
  backlog(): Promise<number>;
  /** Awaits `work`; when it fails, adds what the scenario looks like (statuses, effects, last logs). */
  explain<T>(work: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openScenario(
  infra: PrivateInfra,
  name: string,
  options: { controlPlaneEnv?: Record<string, string> } = {},
): Promise<Scenario> {
  const suffix = randomBytes(4).toString('hex');
  const prefix = `f-${suffix}`;
  const orgId = `org-${suffix}`;
  const databaseName = `faults_${suffix}`;
  const admin = new pg.Client({ connectionString: infra.postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`).finally(() => admin.end());
  const databaseUrl = withDatabase(infra.postgres.url, databaseName);
  await runMigrations(databaseUrl);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  db.on('error', () => undefined); // connections die with the database in some scenarios
  const dir = mkdtempSync(join(tmpdir(), `meridian-faults-${suffix}-`));
  const effectsFile = join(dir, 'effects');
  const token = await signToken({ secret: TEST_JWT_SECRET, orgId, sub: 'faults', permissions: PERMISSIONS });
  const started: ManagedProcess[] = [];

  const countMessages = async (queues: string[]): Promise<number[]> => {
    const connection = await connectAmqp(infra.broker.url);
    try {
      const counts: number[] = [];
      for (const queue of queues) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        // A queue not declared holds nothing; checking it closes the channel (404).
        counts.push(
          await channel.checkQueue(queue).then(
            (ok) => ok.messageCount,
            () => 0,
          ),
        );
      }
      return counts;
    } finally {
      await connection.close();
    }
  };

  const scenario: Scenario = {
    name,
    prefix,
    orgId,
    databaseUrl,
    db,
    dir,
    effectsFile,
    token,
    controlPlane: undefined as unknown as ControlPlaneProcess,
    async startControlPlane({ port, env } = {}) {
      const child = await startControlPlane({
        databaseUrl,
        amqpUrl: infra.broker.url,
        prefix,
        port,
        env: { POLL_INTERVAL_MS: '200', TIMEOUT_GRACE_SECONDS: '5', ...options.controlPlaneEnv, ...env },
      });
      started.push(child);
      scenario.controlPlane = child;
      return child;
    },
    async startAgent(nodeId, { capacity = 10, amqpUrl = infra.broker.url, env } = {}) {
      const dataDir = join(dir, `agent-${nodeId}`);
      mkdirSync(dataDir, { recursive: true });
      const child = await startAgent({
        amqpUrl,
        prefix,
        nodeId,
        orgId,
        maxConcurrency: capacity,
        env: { AGENT_DATA_DIR: dataDir, ...env },
      });
      started.push(child);
      return child;
    },
    async waitForNodeOnline(nodeId, timeoutMs = 30_000) {
      await waitFor(
        async () => {
          const { status, body } = await scenario.api<{ status: string }>('GET', `/api/v1/nodes/${nodeId}`);
          return status === 200 && body.status === 'online';
        },
        { timeoutMs, intervalMs: 200, description: `node ${nodeId} to be online` },
      );
    },
    async api(method, path, { body, headers, timeoutMs = 10_000 } = {}) {
      const response = await fetch(`${scenario.controlPlane.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed as never, headers: response.headers };
    },
    commandTask(key, script, extra = {}) {
      return {
        type: 'Command',
        name: `faults ${name}`,
        targetType: 'Service',
        targetId: 'faults',
        payload: { command: `${script}; echo ${key} >> '${effectsFile}'`, shell: true },
        metadata: { faultKey: key },
        ...extra,
      };
    },
    async createTasks(keys, script, { concurrency = 8, extra, timeoutMs } = {}) {
      const rows: TaskRow[] = [];
      const queue = [...keys];
      const worker = async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          const response = await scenario.api<{ id: string; status: string }>('POST', '/api/v1/tasks', {
            body: scenario.commandTask(key, script(key), extra),
            timeoutMs,
          });
          if (response.status !== 201) {
            throw new Error(
              `POST /api/v1/tasks answered ${response.status}: ${JSON.stringify(response.body)}`,
            );
          }
          rows.push({ id: response.body.id, key, status: response.body.status });
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return rows;
    },
    runningCommands() {
      return processesWhere((cmdline) => cmdline.includes(effectsFile));
    },
    async waitForCommandsToExit(timeoutMs = 30_000) {
      await waitFor(() => scenario.runningCommands().length === 0, {
        timeoutMs,
        intervalMs: 100,
        description: `the commands of scenario ${name} to exit`,
      });
    },
    effects() {
      const counts = new Map<string, number>();
      let text = '';
      try {
        text = readFileSync(effectsFile, 'utf8');
      } catch {
        return counts;
      }
      for (const line of text.split('\n')) {
        if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
      }
      return counts;
    },
    async tasks() {
      const { rows } = await db.query<TaskRow>(
        `SELECT id, status, metadata->>'faultKey' AS key FROM tasks WHERE org_id = $1`,
        [orgId],
      );
      return rows;
    },
    async waitUntilAllFinal(timeoutMs) {
      const allFinal = await waitFor(
        async () => {
          const { rows } = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM tasks WHERE org_id = $1 AND NOT (status = ANY($2))',
            [orgId, FINAL_STATUSES],
          );
          return rows[0]?.n === 0;
        },
        { timeoutMs, intervalMs: 250, description: 'every task to be final' },
      ).catch(() => false);
      return { allFinal, at: Date.now() };
    },
    async tally(expectedKeys) {
      const rows = await scenario.tasks();
      const effects = scenario.effects();
      const statuses = countBy(rows.map((row) => row.status));
      let duplicatedEffects = 0;
      for (const count of effects.values()) duplicatedEffects += Math.max(0, count - 1);
      const duplicatedIds = rows
        .filter((row) => row.key !== null && (effects.get(row.key) ?? 0) > 1)
        .slice(0, 3)
        .map((row) => row.id);
      const { rows: histories } = await db.query<{ id: string; history: string }>(
        `SELECT task_id AS id, string_agg(type || coalesce(' ' || (data->>'reason'), '') || coalesce(' ' || (data->>'error'), ''), ' → ' ORDER BY occurred_at, id) AS history
           FROM task_events WHERE task_id = ANY($1::uuid[]) GROUP BY task_id`,
        [duplicatedIds],
      );
      return {
        tasks: expectedKeys.length,
        lost: expectedKeys.filter((key) => !effects.has(key)).length,
        duplicatedEffects,
        stuck: rows.filter((row) => !FINAL_STATUSES.includes(row.status)).length,
        wrongFinalStates: rows.filter(
          (row) => FINAL_STATUSES.includes(row.status) && row.status !== 'Completed',
        ).length,
        statuses,
        duplicateHistories: histories.map((row) => `${row.id}: ${row.history}`),
      };
    },
    problems(limit = 5) {
      const counts = new Map<string, number>();
      for (const child of started) {
        for (const line of child.logs) {
          if (!line.includes('"level":40') && !line.includes('"level":50') && !line.includes('"level":60'))
            continue;
          try {
            const entry = JSON.parse(line) as { msg?: unknown };
            const msg = `${child.name.split(' ')[0]}: ${String(entry.msg).slice(0, 120)}`;
            counts.set(msg, (counts.get(msg) ?? 0) + 1);
          } catch {
            // not JSON
          }
        }
      }
      return [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, limit)
        .map(([msg, count]) => `${count}× ${msg}`);
    },
    async backlog() {
      const names = topology(prefix);
      const counts = await countMessages([
        names.agentEventsQueue,
        names.logsQueue,
        names.agentEventsDeadLetterQueue,
        names.logsDeadLetterQueue,
      ]);
      return counts.reduce((sum, count) => sum + count, 0);
    },
    async deadLetters() {
      const names = topology(prefix);
      const [agentEvents = 0, logs = 0] = await countMessages([
        names.agentEventsDeadLetterQueue,
        names.logsDeadLetterQueue,
      ]);
      // Dead letters the control plane already moved from those queues into its store.
      const stored = await db
        .query<{ events: number; logs: number }>(
          `SELECT count(*) FILTER (WHERE queue LIKE '%agent-events%')::int AS events,
                  count(*) FILTER (WHERE queue LIKE '%logs%')::int AS logs FROM dead_letters`,
        )
        .then(({ rows }) => rows[0] ?? { events: 0, logs: 0 })
        .catch(() => ({ events: 0, logs: 0 })); // no store in this version
      return { agentEvents: agentEvents + stored.events, logs: logs + stored.logs };
    },
    async explain(work) {
      try {
        return await work;
      } catch (error) {
        const statuses = await scenario
          .tasks()
          .then((rows) => JSON.stringify(countBy(rows.map((row) => row.status))))
          .catch((cause: unknown) => `unreadable (${String(cause)})`);
        const logs = started.map((child) => formatLogs(child, 25)).join('\n');
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${message}\nscenario ${name}: task statuses ${statuses}; ${scenario.effects().size} keys with effects; ` +
            `${scenario.runningCommands().length} commands running\n${logs}`,
          { cause: error },
        );
      }
    },
    async close() {
      await Promise.allSettled(started.map((child) => child.stop('SIGTERM', 10_000)));
      for (const pid of scenario.runningCommands()) killGroup(pid);
      await db.end().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return scenario;
}

/** `count` keys of the form `<prefix>-<n>`. */
export function keys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index + 1}`);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
