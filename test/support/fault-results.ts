import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import type pg from 'pg';
import type { Tally } from './fault-scenario.js';

/**
 * Figures of the fault-injection scenarios: each scenario writes one JSON file, recorded before
 * its assertions so that a failing scenario still reports what it saw; the faults project's global
 * teardown turns them into the table of docs/reliability.md.
 */
export const RESULTS_DIR =
  process.env['FAULTS_RESULTS_DIR'] ?? fileURLToPath(new URL('../faults/.results/', import.meta.url));

export interface ScenarioFigures extends Tally {
  scenario: string;
  /** Seconds from the end of the fault until every task was final (null: not within the deadline). */
  recoverySeconds: number | null;
  /** Further checks of the scenario, as "what: value". */
  checks: Record<string, string | number | boolean>;
  versions: { postgres: string; rabbitmq: string };
  finishedAt: string;
}

export async function serverVersions(db: pg.Pool, amqpUrl: string): Promise<ScenarioFigures['versions']> {
  const { rows } = await db.query<{ server_version: string }>('SHOW server_version');
  const connection = await connect(amqpUrl);
  const properties = (connection.connection as unknown as { serverProperties?: Record<string, unknown> })
    .serverProperties;
  await connection.close();
  const version = properties?.['version'];
  return {
    postgres: rows[0]?.server_version ?? 'unknown',
    rabbitmq:
      typeof version === 'string' ? version : Buffer.isBuffer(version) ? version.toString() : 'unknown',
  };
}

export function recordFigures(figures: ScenarioFigures): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${figures.scenario.replace(/[^a-z0-9-]+/gi, '-')}.json`),
    JSON.stringify(figures, null, 2),
  );
}

export function readFigures(): ScenarioFigures[] {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((file) => JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as ScenarioFigures)
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}

/** The results table (Markdown) with the date, the machine and the versions. */
export function formatResults(figures: ScenarioFigures[]): string {
  const versions = figures[0]?.versions ?? { postgres: 'unknown', rabbitmq: 'unknown' };
  const head = [
    `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; Node ${process.version}, ` +
      `PostgreSQL ${versions.postgres}, RabbitMQ ${versions.rabbitmq} (private instances).`,
    '',
    '| Scenario | Tasks | Lost | Duplicated effects | Stuck | Wrong final state | Recovery (s) | Other checks |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const rows = figures.map((f) =>
    [
      f.scenario,
      f.tasks,
      f.lost,
      f.duplicatedEffects,
      f.stuck,
      `${f.wrongFinalStates}${f.wrongFinalStates > 0 ? ` (${describeStatuses(f.statuses)})` : ''}`,
      f.recoverySeconds === null ? 'not recovered' : f.recoverySeconds.toFixed(1),
      Object.entries(f.checks)
        .map(([what, value]) => `${what}: ${String(value)}`)
        .join('; '),
    ].join(' | '),
  );
  return [...head, ...rows.map((row) => `| ${row} |`)].join('\n');
}

function describeStatuses(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .filter(([status]) => status !== 'Completed')
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}

/** Records the figures of a finished scenario (before its assertions) and returns them. */
export async function recordScenario(
  scenario: { name: string; db: pg.Pool },
  amqpUrl: string,
  tally: Tally,
  recovery: { faultEndedAt: number; allFinalAt: number | null },
  checks: ScenarioFigures['checks'] = {},
): Promise<ScenarioFigures> {
  const figures: ScenarioFigures = {
    scenario: scenario.name,
    ...tally,
    recoverySeconds:
      recovery.allFinalAt === null
        ? null
        : Math.max(0, Math.round((recovery.allFinalAt - recovery.faultEndedAt) / 100) / 10),
    checks,
    versions: await serverVersions(scenario.db, amqpUrl).catch(() => ({
      postgres: 'unknown',
      rabbitmq: 'unknown',
    })),
    finishedAt: new Date().toISOString(),
  };
  recordFigures(figures);
  return figures;
}

/** The four counts every scenario must bring to zero, as one object for a readable diff. */
export function zeroTargets(figures: Tally): Record<string, number> {
  return {
    lost: figures.lost,
    duplicatedEffects: figures.duplicatedEffects,
    stuck: figures.stuck,
    wrongFinalStates: figures.wrongFinalStates,
  };
}

export const ZEROS = { lost: 0, duplicatedEffects: 0, stuck: 0, wrongFinalStates: 0 };
