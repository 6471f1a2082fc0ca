import pg from 'pg';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import {
  createDatabaseIfMissing,
  dropDatabase,
  randomDatabaseName,
} from '../../../../test/support/database.js';
import { withDatabase } from '../../../../test/support/infra.js';
import { createDataSource, MIGRATIONS } from './data-source.js';
import { runMigrations } from './migrate.js';

const serverUrl = () => inject('databaseServerUrl');

/** An empty database of the test's own, dropped when it finishes: no test relies on another's migrations. */
async function emptyDatabase(): Promise<string> {
  const name = randomDatabaseName('meridian_migrations');
  await createDatabaseIfMissing(serverUrl(), name);
  onTestFinished(() => dropDatabase(serverUrl(), name));
  return withDatabase(serverUrl(), name);
}

async function tablesOf(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    return rows.map((row) => row.tablename);
  } finally {
    await client.end();
  }
}

describe('migrations on an empty database', () => {
  it('apply in order, create every table, and a second run finds nothing to do', async () => {
    const url = await emptyDatabase();
    const applied = await runMigrations(url);
    expect(applied).toEqual(MIGRATIONS.map((migration) => migration.name));
    expect(await tablesOf(url)).toEqual([
      'batch_events',
      'batch_wakeups',
      'batches',
      'dead_letters',
      'execution_log_lines',
      'execution_logs',
      'executions',
      'idempotency_keys',
      'node_credentials',
      'node_enrollments',
      'node_events',
      'node_servers',
      'nodes',
      'outbox',
      'processed_messages',
      'rate_limit_windows',
      'recurring_occurrences',
      'recurring_tasks',
      'schema_migrations',
      'task_dependencies',
      'task_events',
      'task_runs',
      'task_templates',
      'tasks',
    ]);
    expect(await runMigrations(url)).toEqual([]);
  });

  it('leave task_events append-only, even for TRUNCATE', async () => {
    const url = await emptyDatabase();
    await runMigrations(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO task_events (org_id, task_id, type, actor, correlation_id, occurred_at)
         VALUES ('o', gen_random_uuid(), 'TaskCreated', 'test', 'c', now())`,
      );
      await expect(client.query(`UPDATE task_events SET type = 'x'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM task_events`)).rejects.toThrow(/append-only/);
      await expect(client.query(`TRUNCATE task_events`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });

  it('revert cleanly: every migration has a working down', async () => {
    const url = await emptyDatabase();
    await runMigrations(url);
    const dataSource = createDataSource({ url, poolSize: 1 });
    await dataSource.initialize();
    try {
      for (let i = 0; i < MIGRATIONS.length; i += 1)
        await dataSource.undoLastMigration({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
    expect(await tablesOf(url)).toEqual(['schema_migrations']);
  });
});
