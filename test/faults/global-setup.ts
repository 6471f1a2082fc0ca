import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatResults, readFigures, RESULTS_DIR } from '../support/fault-results.js';
/** The same default as test/support/private-postgres.ts. */
const POSTGRES_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
import { RABBITMQ_SERVER } from '../support/private-rabbitmq.js';

/**
 * The fault-injection suite needs no shared infrastructure (each file starts its own broker and
 * database). Before the run: forget the previous figures; after it: write the results table to
 * `test/faults/.results/results.md` and print it, for docs/reliability.md.
 */
export function setup(): () => void {
  const missing = [`${POSTGRES_BIN}/initdb`, `${POSTGRES_BIN}/pg_ctl`, RABBITMQ_SERVER].filter(
    (file) => !existsSync(file),
  );
  if (missing.length > 0) {
    throw new Error(
      `the fault-injection suite starts private servers and needs ${missing.join(', ')}: ` +
        'install them (Debian/Ubuntu: `sudo apt-get install postgresql rabbitmq-server`), or point ' +
        'PG_BIN at the folder of initdb/pg_ctl and RABBITMQ_SERVER at the rabbitmq-server script',
    );
  }
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  mkdirSync(RESULTS_DIR, { recursive: true });
  return () => {
    const figures = readFigures();
    if (figures.length === 0) return;
    const table = formatResults(figures);
    writeFileSync(join(RESULTS_DIR, 'results.md'), `${table}\n`);
    process.stdout.write(`\nFault-injection results (${join(RESULTS_DIR, 'results.md')}):\n\n${table}\n\n`);
  };
}
