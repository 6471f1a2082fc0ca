import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { createTemplate, deleteTemplate, updateTemplate } from '../../app/templates/change-template.js';
import { executeTemplate } from '../../app/templates/execute-template.js';
import { getTemplate, listTemplates } from '../../app/templates/template-queries.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import {
  createTemplateRoute,
  deleteTemplateRoute,
  executeTemplateRoute,
  getTemplateRoute,
  listTemplatesRoute,
  updateTemplateRoute,
} from './templates.routes.js';

/** `/tasks/templates/*`; mount under `/api/v1` before the task router, whose `/tasks/{id}` would take them. */
export function createTemplateRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(createTemplateRoute, async (c) => {
    const template = await createTemplate(deps, actorOf(c), c.req.valid('json'));
    c.header('Location', `${c.req.path}/${template.id}`);
    return c.json(template, 201);
  });

  router.openapi(listTemplatesRoute, async (c) =>
    c.json(await listTemplates(deps, actorOf(c), c.req.valid('query')), 200),
  );

  router.openapi(getTemplateRoute, async (c) =>
    c.json(await getTemplate(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(updateTemplateRoute, async (c) =>
    c.json(await updateTemplate(deps, actorOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  router.openapi(deleteTemplateRoute, async (c) => {
    await deleteTemplate(deps, actorOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });

  router.openapi(executeTemplateRoute, async (c) => {
    const batch = await executeTemplate(deps, actorOf(c), c.req.valid('param').id, c.req.valid('json'));
    c.header('Location', `${c.req.path.replace(/\/templates\/[^/]+\/execute$/, '/batches')}/${batch.id}`);
    return c.json(batch, 201);
  });

  return router;
}
