import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { pauseTask } from '../../app/pause-task.js';
import { rescheduleTask } from '../../app/reschedule-task.js';
import { resumeTask } from '../../app/resume-task.js';
import { consumeTriggerLimits } from '../../app/trigger-limits.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { setRateLimitHeaders } from '../rate-limit-headers.js';
import { pauseTaskRoute, rescheduleTaskRoute, resumeTaskRoute } from './reschedule.routes.js';

/** Reschedule, pause and resume of a task; mount under `/api/v1` behind `authenticate`. */
export function createRescheduleRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(rescheduleTaskRoute, async (c) => {
    const actor = actorOf(c);
    const taskId = c.req.valid('param').id;
    setRateLimitHeaders(c, await consumeTriggerLimits(deps, actor, [taskId]));
    return c.json(await rescheduleTask(deps, actor, taskId, c.req.valid('json')), 200);
  });

  router.openapi(pauseTaskRoute, async (c) =>
    c.json(await pauseTask(deps, actorOf(c), c.req.valid('param').id, c.req.valid('json').reason), 200),
  );

  router.openapi(resumeTaskRoute, async (c) =>
    c.json(await resumeTask(deps, actorOf(c), c.req.valid('param').id, c.req.valid('json').reason), 200),
  );

  return router;
}
