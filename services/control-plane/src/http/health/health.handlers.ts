import { OpenAPIHono } from '@hono/zod-openapi';
import type { Clock } from '../../app/clock.js';
import type { HttpEnv } from '../http-env.js';
import {
  type HealthReport,
  healthzRoute,
  livezRoute,
  type NotReadyProblem,
  readyzRoute,
} from './health.routes.js';
import { type ReadinessCheck, runChecks } from './run-checks.js';

export interface HealthOptions {
  serviceName: string;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
  clock: Clock;
  checkTimeoutMs: number;
}

/** Anonymous probes: `/livez` (process), `/readyz` (dependencies and shutdown), `/healthz` (overview). */
export function createHealthRouter(options: HealthOptions): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  const report = async (logger: HttpEnv['Variables']['logger'], ready: boolean) => {
    const { healthy, checks } = await runChecks(options.readiness, options.checkTimeoutMs, logger);
    const status: HealthReport['status'] = !ready ? 'shutting_down' : healthy ? 'ok' : 'unhealthy';
    const body: HealthReport = {
      service: options.serviceName,
      status,
      timestamp: options.clock.now().toISOString(),
      checks,
    };
    return { body, code: status === 'ok' ? (200 as const) : (503 as const) };
  };

  // Probes must see the current state, never a cached one.
  router.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  router.openapi(livezRoute, (c) => c.json({ status: 'ok' as const }, 200));

  router.openapi(healthzRoute, async (c) => {
    const { body, code } = await report(c.get('logger'), true);
    return c.json(body, code);
  });

  router.openapi(readyzRoute, async (c) => {
    const { body, code } = await report(c.get('logger'), !options.isShuttingDown());
    if (code === 200) return c.json(body, code);
    const down = Object.entries(body.checks)
      .filter(([, check]) => check.status !== 'Healthy')
      .map(([name]) => name);
    const problem: NotReadyProblem = {
      type: '/problems/not-ready',
      title: 'Not ready',
      status: 503,
      detail:
        body.status === 'shutting_down'
          ? 'shutting down'
          : `not ready: ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down`,
      service: body.service,
      timestamp: body.timestamp,
      checks: body.checks,
    };
    return c.json(problem, 503, { 'Content-Type': 'application/problem+json' });
  });

  return router;
}
