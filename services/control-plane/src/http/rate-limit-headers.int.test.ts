import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import { actorOf, createTestAppDeps } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import type { AppDeps } from '../app/app-deps.js';
import { consumeTriggerLimits } from '../app/trigger-limits.js';
import { correlation } from './correlation.js';
import { errorHandler } from './error-handler.js';
import type { HttpEnv } from './http-env.js';
import { problemResponses } from './openapi-schemas.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { RateLimitHeadersDoc, setRateLimitHeaders } from './rate-limit-headers.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

const countedRoute = createRoute({
  method: 'post',
  path: '/tasks/{id}/counted',
  request: { params: z.object({ id: z.string() }) },
  responses: {
    202: { description: 'Counted', headers: RateLimitHeadersDoc },
    ...problemResponses(429),
  },
});

/** An app with one counted route: the trigger routes are not part of this test. */
function countedApp(app: AppDeps, orgId: string) {
  const http = new OpenAPIHono<HttpEnv>();
  http.use('*', correlation(app.logger));
  http.onError(errorHandler(app.logger));
  http.openapi(countedRoute, async (c) => {
    const status = await consumeTriggerLimits(app, actorOf(orgId), [c.req.valid('param').id]);
    setRateLimitHeaders(c, status);
    return c.body(null, 202);
  });
  return http;
}

describe('rate-limit headers over HTTP', () => {
  it('answers a counted call with the tightest limit, then 429 naming the limit', async () => {
    deps.clock.set(new Date('2031-03-04T10:45:10.000Z'));
    const limited = { ...deps, triggerLimits: { ...deps.triggerLimits, perTaskPerHour: 2 } };
    const http = countedApp(limited, `org-${randomUUID().slice(0, 8)}`);
    const taskId = randomUUID();
    const call = () => http.request(`/tasks/${taskId}/counted`, { method: 'POST' });

    const first = await call();
    expect(first.status).toBe(202);
    expect(Object.fromEntries(first.headers)).toMatchObject({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '890',
    });
    expect((await call()).headers.get('RateLimit-Remaining')).toBe('0');

    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Content-Type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(Object.fromEntries(refused.headers)).toMatchObject({
      'retry-after': '890',
      'ratelimit-limit': '2',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '890',
    });
    const problem = (await refused.json()) as Problem;
    expect(problem).toMatchObject({
      type: '/problems/rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `per-task trigger limit of 2 per hour reached for task ${taskId}`,
      instance: `/tasks/${taskId}/counted`,
    });
    expect(problem.correlationId).toBe(refused.headers.get('X-Correlation-Id'));
  });

  it('documents the 429 response and the headers of a counted answer', () => {
    const http = countedApp(deps, 'org-docs');
    const document = http.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    type Documented = Record<string, { headers?: object; content?: Record<string, unknown> }>;
    const responses = (document.paths?.['/tasks/{id}/counted']?.post?.responses ?? {}) as Documented;
    expect(Object.keys(responses['202']?.headers ?? {})).toEqual([
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(Object.keys(responses['429']?.headers ?? {}).sort()).toEqual([
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
    ]);
    expect(responses['429']?.content?.[PROBLEM_CONTENT_TYPE]).toBeDefined();
  });
});
