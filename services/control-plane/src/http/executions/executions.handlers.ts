import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { getExecution, listExecutions } from '../../app/execution-queries.js';
import { readExecutionLog } from '../../app/read-execution-log.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { getExecutionLogRoute, getExecutionRoute, listExecutionsRoute } from './executions.routes.js';

/**
 * Execution operations; mount under `/api/v1` before the task router, so that
 * `/tasks/executions/{executionId}` is matched here before `/tasks/{id}/…` can claim it.
 */
export function createExecutionRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(getExecutionRoute, async (c) =>
    c.json(await getExecution(deps, actorOf(c), c.req.valid('param').executionId), 200),
  );

  router.openapi(getExecutionLogRoute, async (c) =>
    c.json(
      await readExecutionLog(deps, actorOf(c), c.req.valid('param').executionId, c.req.valid('query')),
      200,
    ),
  );

  router.openapi(listExecutionsRoute, async (c) =>
    c.json(await listExecutions(deps, actorOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );

  return router;
}
