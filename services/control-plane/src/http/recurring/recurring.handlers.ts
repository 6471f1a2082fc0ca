import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { createRecurringTask } from '../../app/recurring/create-recurring-task.js';
import { getRecurringTask, listRecurringTasks } from '../../app/recurring/recurring-queries.js';
import { triggerRecurringTask } from '../../app/recurring/trigger-recurring-task.js';
import { deleteRecurringTask, updateRecurringTask } from '../../app/recurring/update-recurring-task.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import {
  createRecurringTaskRoute,
  deleteRecurringTaskRoute,
  getRecurringTaskRoute,
  listRecurringTasksRoute,
  triggerRecurringTaskRoute,
  updateRecurringTaskRoute,
} from './recurring.routes.js';

/** `/tasks/recurring[/…]`; mount under `/api/v1` before the task router, whose `/tasks/{id}` would take `recurring`. */
export function createRecurringRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(createRecurringTaskRoute, async (c) => {
    const created = await createRecurringTask(deps, actorOf(c), c.req.valid('json'));
    c.header('Location', `${c.req.path}/${created.id}`);
    return c.json(created, 201);
  });

  router.openapi(listRecurringTasksRoute, async (c) =>
    c.json(await listRecurringTasks(deps, actorOf(c), c.req.valid('query')), 200),
  );

  router.openapi(getRecurringTaskRoute, async (c) =>
    c.json(await getRecurringTask(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(updateRecurringTaskRoute, async (c) =>
    c.json(await updateRecurringTask(deps, actorOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  router.openapi(deleteRecurringTaskRoute, async (c) => {
    await deleteRecurringTask(deps, actorOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });

  router.openapi(triggerRecurringTaskRoute, async (c) => {
    const occurrence = await triggerRecurringTask(deps, actorOf(c), c.req.valid('param').id);
    c.header('Location', `/api/v1/tasks/${occurrence.taskId}`);
    return c.json(occurrence, 201);
  });

  return router;
}
