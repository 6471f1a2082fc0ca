import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { withDatabase } from './infra.js';

/**
 * Databases for tests: one migrated template per run, and per test file a copy made with
 * `CREATE DATABASE … TEMPLATE`, which copies files instead of replaying migrations (milliseconds).
 * Every statement runs on a short-lived admin connection to the server URL (a maintenance database).
 */
export interface ClonedDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** PostgreSQL reports "source database is being accessed by other users" and similar as 55006. */
const OBJECT_IN_USE = '55006';
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

export function randomDatabaseName(prefix = 'meridian_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops `templateName` if it exists, creates it empty and runs every migration on it. */
export async function createMigratedTemplate(serverUrl: string, templateName: string): Promise<void> {
  await dropDatabase(serverUrl, templateName);
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${quote(templateName)}`));
  await runMigrations(withDatabase(serverUrl, templateName));
  // A connection left open on the template would make every clone fail; refuse new ones for good.
  await withAdmin(serverUrl, async (client) => {
    await client.query(`ALTER DATABASE ${quote(templateName)} ALLOW_CONNECTIONS false`);
    await terminateConnections(client, templateName);
  });
}

/** A fresh copy of the template under a random name; `drop()` removes it. */
export async function cloneDatabase(serverUrl: string, templateName: string): Promise<ClonedDatabase> {
  const name = randomDatabaseName();
  await retryWhileInUse(() =>
    withAdmin(serverUrl, (client) =>
      client.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(templateName)}`),
    ),
  );
  return { name, url: withDatabase(serverUrl, name), drop: () => dropDatabase(serverUrl, name) };
}

/** Creates the database unless it exists; returns whether it was created. */
export async function createDatabaseIfMissing(serverUrl: string, name: string): Promise<boolean> {
  return withAdmin(serverUrl, async (client) => {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    await client.query(`CREATE DATABASE ${quote(name)}`);
    return true;
  });
}

/** Terminates the database's connections, then drops it; no error when it does not exist. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await retryWhileInUse(() =>
    withAdmin(serverUrl, async (client) => {
      await client.query(`ALTER DATABASE ${quote(name)} ALLOW_CONNECTIONS false`).catch(ignoreMissing);
      await terminateConnections(client, name);
      await client.query(`DROP DATABASE IF EXISTS ${quote(name)}`);
    }),
  );
}

async function terminateConnections(client: pg.Client, name: string): Promise<void> {
  await client.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
}

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Two clones of one template at the same instant, or a backend that has not quite gone after
 * `pg_terminate_backend`, make PostgreSQL answer 55006: wait a little and try again.
 */
async function retryWhileInUse<T>(work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isPgError(error, OBJECT_IN_USE) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500) + Math.random() * 50));
    }
  }
}

function ignoreMissing(error: unknown): void {
  if (!isPgError(error, '3D000')) throw error;
}

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function quote(name: string): string {
  if (!DATABASE_NAME.test(name)) {
    throw new Error(`refusing database name ${JSON.stringify(name)}: use letters, digits, _ and -`);
  }
  return `"${name}"`;
}
