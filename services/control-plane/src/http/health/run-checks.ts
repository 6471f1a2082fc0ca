import type { Logger } from 'pino';

export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  status: 'Healthy' | 'Unhealthy';
  duration_ms: number;
  /** Why it failed, in general terms; the error itself is logged, not shown to anonymous callers. */
  error?: string;
}

export interface ChecksReport {
  healthy: boolean;
  checks: Record<string, CheckResult>;
}

class CheckTimeout extends Error {}

/** Runs every check at once, each bounded by `timeoutMs`, so that a hung dependency cannot hang a probe. */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
  logger: Logger,
): Promise<ChecksReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await runOne(name, check, timeoutMs, logger)] as const,
    ),
  );
  return {
    healthy: entries.every(([, result]) => result.status === 'Healthy'),
    checks: Object.fromEntries(entries),
  };
}

async function runOne(
  name: string,
  check: ReadinessCheck,
  timeoutMs: number,
  logger: Logger,
): Promise<CheckResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), timeoutMs);
  });
  try {
    await Promise.race([check(), deadline]);
    return { status: 'Healthy', duration_ms: elapsed() };
  } catch (error) {
    const timedOut = error instanceof CheckTimeout;
    logger.warn({ check: name, err: timedOut ? undefined : error, timedOut }, 'health check failed');
    return {
      status: 'Unhealthy',
      duration_ms: elapsed(),
      error: timedOut ? `timed out after ${timeoutMs} ms` : 'check failed',
    };
  } finally {
    clearTimeout(timer);
  }
}
