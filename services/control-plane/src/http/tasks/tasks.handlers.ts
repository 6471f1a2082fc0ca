import { OpenAPIHono } from '@hono/zod-openapi';
import type { Task } from '@meridian/contracts/api/task';
import type { AppDeps } from '../../app/app-deps.js';
import { cancelTask } from '../../app/cancel-task.js';
import { createTask, createTaskIdempotently } from '../../app/create-task.js';
import { retryTask } from '../../app/retry-task.js';
import { getTask, listTasks } from '../../app/task-queries.js';
import { parseIdempotencyKey } from '../../domain/idempotency-key.js';
import { actorOf } from '../authorize.js';
import { answerEventPage } from '../events/event-page.js';
import type { HttpEnv } from '../http-env.js';
import {
  cancelTaskRoute,
  createTaskRoute,
  getTaskRoute,
  listTaskEventsRoute,
  listTasksRoute,
  retryTaskRoute,
} from './tasks.routes.js';
import { createTriggerRouter } from './trigger.handlers.js';

/** `/tasks` operations; mount under `/api/v1` behind `authenticate`. */
export function createTaskRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(createTaskRoute, async (c) => {
    const headers = c.req.valid('header');
    const parsed = parseIdempotencyKey({
      idempotencyKey: headers['idempotency-key'],
      xIdempotencyKey: headers['x-idempotency-key'],
    });
    const key = parsed.ok ? parsed.key : undefined; // refused by the route's validation otherwise
    if (key === undefined) {
      const task = await createTask(deps, actorOf(c), c.req.valid('json'));
      c.header('Location', `${c.req.path}/${task.id}`);
      return c.json(task, 201);
    }
    const created = await createTaskIdempotently(deps, actorOf(c), c.req.valid('json'), key);
    c.header('Location', `${c.req.path}/${created.taskId}`);
    if (created.replayed) c.header('Idempotent-Replayed', 'true');
    // Parsed and written again with the keys in their stored order: the same bytes as the first time.
    return c.json(JSON.parse(created.body) as Task, 201);
  });

  router.openapi(listTasksRoute, async (c) =>
    c.json(await listTasks(deps, actorOf(c), c.req.valid('query')), 200),
  );

  router.openapi(getTaskRoute, async (c) =>
    c.json(await getTask(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(cancelTaskRoute, async (c) => {
    const reason = c.req.valid('json').reason ?? c.req.valid('query').reason;
    return c.json(await cancelTask(deps, actorOf(c), c.req.valid('param').id, reason), 200);
  });

  router.openapi(retryTaskRoute, async (c) =>
    c.json(await retryTask(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(listTaskEventsRoute, (c) =>
    answerEventPage(c, deps, c.req.valid('query'), c.req.valid('param').id),
  );

  router.route('/', createTriggerRouter(deps));
  return router;
}
