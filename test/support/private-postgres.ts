import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from './processes.js';
import { waitFor } from './wait-for.js';

/**
 * A PostgreSQL cluster of a test's own, for tests that stop, crash or restart the database: the
 * shared server on :5432 serves everybody else and must never be touched. `initdb` and `postgres`
 * refuse to run as root, so as root they run as the `postgres` user on a folder it owns.
 * See /work/shared/infra-recipes.md.
 */
export interface PrivatePostgres {
  /** Server URL (the `postgres` maintenance database), trust authentication. */
  url: string;
  port: number;
  dataDir: string;
  /** PID of the postmaster while it runs (first line of postmaster.pid). */
  postmasterPid(): number | undefined;
  /** `pg_ctl stop -m immediate`: every backend dies at once, clients see their connections drop. */
  stopImmediate(): Promise<void>;
  /** kill -9 of the postmaster, as on a crash. */
  crash(): Promise<void>;
  /** Starts the cluster again on the same folder (crash recovery included) and waits until it serves. */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`. */
  stop(): Promise<void>;
  /** Stops the cluster and deletes its folder. */
  destroy(): Promise<void>;
  /** The last lines of the server log, for error messages. */
  output(): string;
}

const BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);
const live = new Set<() => void>();

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const base = mkdtempSync(join(tmpdir(), 'meridian-postgres-'));
  chmodSync(base, 0o755);
  const dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dataDir, Number(stdout.trim()), Number(gid.trim()));
  }
  const asPostgres = (file: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  const port = await findFreePort();
  const logFile = join(dataDir, 'postgres.log');

  await asPostgres(`${BIN}/initdb`, [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);

  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const output = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '(no server log)';
    }
  };
  const pgCtl = async (args: string[]) => {
    try {
      await asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, ...args]);
    } catch (error) {
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${String(error)}\n${output()}`);
    }
  };
  const startOnce = () =>
    pgCtl([
      '-l',
      logFile,
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dataDir} -c max_connections=200 -c fsync=off`,
      'start',
    ]);
  // After a kill -9 of the postmaster its backends take a moment to notice and exit; until they
  // have, a new postmaster refuses the shared memory they still hold: try again.
  const start = () =>
    waitFor(() => startOnce().then(() => true), {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: 'the private PostgreSQL to start',
    }).then(() => undefined);
  const stop = async () => {
    if (postmasterPid() !== undefined) await pgCtl(['-m', 'fast', '-w', 'stop']);
  };
  const emergencyStop = () => {
    const pid = postmasterPid();
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  live.add(emergencyStop);

  const database: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    postmasterPid,
    output,
    start,
    stop,
    stopImmediate: () => pgCtl(['-m', 'immediate', '-w', 'stop']),
    async crash() {
      const pid = postmasterPid();
      if (pid === undefined) throw new Error('the private PostgreSQL is not running');
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), { timeoutMs: 15_000, description: `postmaster ${pid} to exit` });
    },
    async destroy() {
      try {
        await stop().catch(emergencyStop);
      } finally {
        live.delete(emergencyStop);
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
  try {
    await start();
  } catch (error) {
    await database.destroy();
    throw error;
  }
  return database;
}

// Last resort when a test process exits without teardown: the cluster would outlive it.
process.once('exit', () => {
  for (const stop of live) stop();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
