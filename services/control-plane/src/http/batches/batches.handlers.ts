import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import {
  decodeBatchEventCursor,
  getBatch,
  listBatchEvents,
  listBatches,
} from '../../app/batches/batch-queries.js';
import { cancelBatch } from '../../app/batches/cancel-batch.js';
import { createBatch } from '../../app/batches/create-batch.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { buildProblem, PROBLEM_CONTENT_TYPE } from '../problem.js';
import {
  cancelBatchRoute,
  createBatchRoute,
  getBatchRoute,
  listBatchEventsRoute,
  listBatchesRoute,
} from './batches.routes.js';

/** `/tasks/batch` and `/tasks/batches/*`; mount under `/api/v1` before the task router, whose `/tasks/{id}` would take them. */
export function createBatchRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(createBatchRoute, async (c) => {
    const batch = await createBatch(deps, actorOf(c), c.req.valid('json'));
    c.header('Location', `${c.req.path.replace(/\/batch$/, '/batches')}/${batch.id}`);
    return c.json(batch, 201);
  });

  router.openapi(listBatchesRoute, async (c) =>
    c.json(await listBatches(deps, actorOf(c), c.req.valid('query')), 200),
  );

  router.openapi(getBatchRoute, async (c) =>
    c.json(await getBatch(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(cancelBatchRoute, async (c) =>
    c.json(await cancelBatch(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(listBatchEventsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const after = query.cursor === undefined ? '0' : decodeBatchEventCursor(id, query.cursor);
    if (after === null) {
      const problem = buildProblem('validation', {
        detail: 'invalid query.cursor',
        errors: [
          { field: 'query.cursor', message: 'is not the nextCursor of a page of this batch’s events' },
        ],
        instance: c.req.path,
        correlationId: c.get('correlationId'),
      });
      return c.json(problem, 400, { 'Content-Type': PROBLEM_CONTENT_TYPE });
    }
    return c.json(await listBatchEvents(deps, actorOf(c), id, { after, limit: query.limit }), 200);
  });

  return router;
}
