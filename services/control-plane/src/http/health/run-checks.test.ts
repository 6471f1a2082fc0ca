import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runChecks } from './run-checks.js';

const logger = pino({ level: 'silent' });

describe('runChecks', () => {
  it('is healthy with no checks', async () => {
    expect(await runChecks({}, 100, logger)).toEqual({ healthy: true, checks: {} });
  });

  it('reports each check, failing on a rejection without showing its message', async () => {
    const report = await runChecks(
      { ok: () => Promise.resolve(), broken: () => Promise.reject(new Error('password=hunter2')) },
      100,
      logger,
    );
    expect(report.healthy).toBe(false);
    expect(report.checks['ok']?.status).toBe('Healthy');
    expect(report.checks['broken']).toMatchObject({ status: 'Unhealthy', error: 'check failed' });
    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('fails a check that does not answer in time', async () => {
    const report = await runChecks({ hung: () => new Promise<void>(() => undefined) }, 20, logger);
    expect(report.checks['hung']).toMatchObject({ status: 'Unhealthy', error: 'timed out after 20 ms' });
    expect(report.checks['hung']?.duration_ms).toBeGreaterThanOrEqual(15);
  });
});
