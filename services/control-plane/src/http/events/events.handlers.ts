import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import type { HttpEnv } from '../http-env.js';
import { answerEventPage } from './event-page.js';
import { listOrgEventsRoute } from './events.routes.js';

/** `GET /events`, the organisation's feed; mount under `/api/v1` behind `authenticate`. */
export function createEventRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();
  router.openapi(listOrgEventsRoute, (c) => answerEventPage(c, deps, c.req.valid('query')));
  return router;
}
