import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatResults, readFigures, RESULTS_DIR } from '../support/fault-results.js';

/**
 * The fault-injection suite needs no shared infrastructure (each file starts its own broker and
 * database). Before the run: forget the previous figures; after it: write the results table to
 * `test/faults/.results/results.md` and print it, for docs/reliability.md.
 */
export function setup(): () => void {
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
