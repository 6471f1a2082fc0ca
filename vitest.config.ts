import { defineConfig } from 'vitest/config';

/**
 * Four projects: `unit` (pure, no I/O), `integration` (real PostgreSQL and RabbitMQ), `e2e`
 * (real control-plane and agent processes) and `faults` (real processes on a private broker and
 * database that the tests crash and restart). The global setup finds the infrastructure once per run
 * and migrates a template database that each test file clones.
 */
export default defineConfig({
  test: {
    reporters: ['default'],
    // Tests run in a random order within each file, every run: a test that relies on what an
    // earlier one left behind (a queue, a migrated database, a counter) fails soon instead of
    // hiding. The banner prints the seed; `--sequence.seed <seed>` replays that order. Files keep
    // vitest's order (slowest first): each has its own database and broker prefix and they run in
    // parallel anyway. `--sequence.shuffle.files` shuffles them too, to hunt locally.
    sequence: { shuffle: { files: false, tests: true } },
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'contracts/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'agent/src/**/*.test.ts',
            'test/support/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/src/**/*.int.test.ts', 'test/int/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.faults.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/faults/global-setup.ts'],
          // Each file starts its own broker and database and kills things on purpose: one at a time,
          // so that one scenario's outage does not slow another's processes down.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
