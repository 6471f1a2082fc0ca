import { createRoute, z } from '@hono/zod-openapi';

const CheckResultSchema = z.object({
  status: z.enum(['Healthy', 'Unhealthy']),
  duration_ms: z.number(),
  error: z.string().optional(),
});

export const HealthReportSchema = z
  .object({
    service: z.string(),
    status: z.enum(['ok', 'unhealthy', 'shutting_down']),
    timestamp: z.string(),
    checks: z.record(z.string(), CheckResultSchema),
  })
  .openapi('HealthReport');
export type HealthReport = z.infer<typeof HealthReportSchema>;

/**
 * `/readyz` when not ready: a problem (RFC 9457) whose `detail` names what is down, with every
 * check's result beside it.
 */
export const NotReadyProblemSchema = z
  .object({
    type: z.literal('/problems/not-ready'),
    title: z.string(),
    status: z.literal(503),
    detail: z.string(),
    service: z.string(),
    timestamp: z.string(),
    checks: z.record(z.string(), CheckResultSchema),
  })
  .openapi('NotReadyProblem');
export type NotReadyProblem = z.infer<typeof NotReadyProblemSchema>;

const report = (description: string) => ({
  description,
  content: { 'application/json': { schema: HealthReportSchema } },
});

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['Health'],
  summary: 'Overall health: every dependency check',
  responses: { 200: report('Every check passed'), 503: report('A check failed') },
});

export const livezRoute = createRoute({
  method: 'get',
  path: '/livez',
  operationId: 'getLiveness',
  tags: ['Health'],
  summary: 'Liveness: the process answers',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['Health'],
  summary: 'Readiness: dependencies answer, every broker consumer consumes, not shutting down',
  responses: {
    200: report('Ready for traffic'),
    503: {
      description: 'Not ready, or shutting down: `detail` names what is down',
      content: { 'application/problem+json': { schema: NotReadyProblemSchema } },
    },
  },
});
