import { OpenAPIHono, type RouteHandler } from '@hono/zod-openapi';
import type { TriggerResponse, TriggerTaskBody } from '@meridian/contracts/api/task-run';
import type { AppDeps } from '../../app/app-deps.js';
import { triggerTaskIdempotently, TRIGGER_ACCEPTED } from '../../app/trigger-task-idempotently.js';
import { consumeTriggerLimits } from '../../app/trigger-limits.js';
import { parseIdempotencyKey } from '../../domain/idempotency-key.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { setRateLimitHeaders } from '../rate-limit-headers.js';
import { executeTaskRoute, triggerTaskRoute } from './trigger.routes.js';

/** `POST /tasks/{id}/trigger` and its synonym `/execute`; mount under `/api/v1` behind `authenticate`. */
export function createTriggerRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  const trigger: RouteHandler<typeof triggerTaskRoute, HttpEnv> = async (c) => {
    const headers = c.req.valid('header');
    const parsed = parseIdempotencyKey({
      idempotencyKey: headers['idempotency-key'],
      xIdempotencyKey: headers['x-idempotency-key'],
    });
    const key = parsed.ok ? parsed.key : undefined; // refused by the route's validation otherwise
    // Without a body (none is required) the validator hands over `{}`, without the defaults.
    const given: Partial<TriggerTaskBody> = c.req.valid('json');
    const body: TriggerTaskBody = { ...given, context: given.context ?? {}, queue: given.queue ?? false };
    const actor = actorOf(c);
    const taskId = c.req.valid('param').id;
    // Counted before the work, in a transaction of its own: a refused call (404, 409) counts too.
    setRateLimitHeaders(c, await consumeTriggerLimits(deps, actor, [taskId]));
    const outcome = await triggerTaskIdempotently(deps, actor, taskId, body, key);
    const response = JSON.parse(outcome.body) as TriggerResponse;
    c.header('Location', `/api/v1/tasks/executions/${response.executionId}`);
    if (outcome.replayed) c.header('Idempotent-Replayed', 'true');
    // Parsed and written again with the keys in their stored order: the same bytes as the first time.
    return c.json(response, TRIGGER_ACCEPTED);
  };

  router.openapi(triggerTaskRoute, trigger);
  router.openapi(executeTaskRoute, trigger);
  return router;
}
