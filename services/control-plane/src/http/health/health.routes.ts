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
  summary: 'Readiness: dependencies answer and the process is not shutting down',
  responses: { 200: report('Ready for traffic'), 503: report('Not ready, or shutting down') },
});
