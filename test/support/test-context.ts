import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { cloneDatabase } from './database.js';
import type { ClonedDatabase } from './database.js';
import { runningProcesses, stopAllProcesses } from './processes.js';

export { waitFor } from './wait-for.js';
export { deleteBrokerObjects, getMessage } from './broker.js';
export type { BrokerObjects } from './broker.js';
export type { WaitForOptions } from './wait-for.js';

/** What a test file gets from `useTestDatabase()`; read it inside tests and hooks, not at import. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
}

/**
 * A database of this test file's own, cloned from the run's migrated template in `beforeAll` and
 * dropped in `afterAll`. Call it at the top level of the file (or of a `describe`).
 */
export function useTestDatabase(): TestDatabase {
  let database: ClonedDatabase | undefined;
  beforeAll(async () => {
    database = await cloneDatabase(inject('databaseServerUrl'), inject('templateDatabase'));
  });
  afterAll(async () => {
    await database?.drop();
    database = undefined;
  });
  const current = (): ClonedDatabase => {
    if (!database) throw new Error('the test database exists only between beforeAll and afterAll');
    return database;
  };
  return {
    get url() {
      return current().url;
    },
    get name() {
      return current().name;
    },
  };
}

/** The broker URL found by the global setup. */
export function testAmqpUrl(): string {
  return inject('amqpUrl');
}

/** A topology prefix of the test's own (`t-<8 hex>`), so that tests share one broker safely. */
export function uniquePrefix(): string {
  return `t-${randomBytes(4).toString('hex')}`;
}

/**
 * Fails the file when it leaves control-plane or agent processes running (after stopping them), so
 * that a missing `stop()` shows up where it happens instead of as a port or queue clash later.
 */
export function failOnLeakedProcesses(): void {
  afterAll(async () => {
    const leaked = runningProcesses().map((child) => `${child.name} (pid ${child.pid})`);
    if (leaked.length === 0) return;
    await stopAllProcesses();
    throw new Error(`processes left running by this file: ${leaked.join(', ')}`);
  });
}
