import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { getDeadLetter, listDeadLetters } from '../../app/dead-letters/dead-letter-queries.js';
import { redriveDeadLetter, redriveDeadLetters } from '../../app/dead-letters/redrive-dead-letters.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import {
  bulkRedriveRoute,
  getDeadLetterRoute,
  listDeadLettersRoute,
  redriveDeadLetterRoute,
} from './dead-letters.routes.js';

/** `/admin/dead-letters` operations; mount under `/api/v1` behind `authenticate`. */
export function createDeadLetterRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(listDeadLettersRoute, async (c) =>
    c.json(await listDeadLetters(deps, actorOf(c), c.req.valid('query')), 200),
  );
  // Before `{id}`: `redrive` is not an id (and would be refused as one).
  router.openapi(bulkRedriveRoute, async (c) =>
    c.json(await redriveDeadLetters(deps, actorOf(c), c.req.valid('json')), 200),
  );
  router.openapi(getDeadLetterRoute, async (c) =>
    c.json(await getDeadLetter(deps, actorOf(c), c.req.valid('param').id), 200),
  );
  router.openapi(redriveDeadLetterRoute, async (c) =>
    c.json(await redriveDeadLetter(deps, actorOf(c), c.req.valid('param').id), 200),
  );
  return router;
}
