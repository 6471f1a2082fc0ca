import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { createEnrollment } from '../../app/enrollment/create-enrollment.js';
import {
  getNodeEnrollment,
  listNodeEnrollments,
  revokeNodeEnrollment,
} from '../../app/enrollment/enrollment-queries.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import {
  createEnrollmentRoute,
  getEnrollmentRoute,
  listEnrollmentsRoute,
  revokeEnrollmentRoute,
} from './enrollments.routes.js';

/** `/nodes/enrollments` operations; mount under `/api/v1` behind `authenticate`, before `/nodes/{id}`. */
export function createEnrollmentRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(createEnrollmentRoute, async (c) => {
    const created = await createEnrollment(deps, actorOf(c), c.req.valid('json'));
    c.header('Location', `${c.req.path}/${created.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });

  router.openapi(listEnrollmentsRoute, async (c) =>
    c.json(await listNodeEnrollments(deps, actorOf(c), c.req.valid('query')), 200),
  );

  router.openapi(getEnrollmentRoute, async (c) =>
    c.json(await getNodeEnrollment(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(revokeEnrollmentRoute, async (c) =>
    c.json(await revokeNodeEnrollment(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  return router;
}
