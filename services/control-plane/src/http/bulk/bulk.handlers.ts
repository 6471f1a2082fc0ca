import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { applyBulk } from '../../app/bulk/apply-bulk.js';
import { estimatorForOneCall } from '../../app/estimate-completion.js';
import { rescheduleLockedTask } from '../../app/reschedule-task.js';
import { consumeTriggerLimits } from '../../app/trigger-limits.js';
import { triggerLockedTask } from '../../app/trigger-task.js';
import { InvalidFieldError } from '../../domain/errors.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { setRateLimitHeaders } from '../rate-limit-headers.js';
import { toBulkResult } from './bulk-result.js';
import { bulkRescheduleRoute, bulkTriggerRoute } from './bulk.routes.js';

/** `/tasks/bulk/*`; mount under `/api/v1` before the task router, whose `/tasks/{id}` would take `bulk`. */
export function createBulkRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(bulkTriggerRoute, async (c) => {
    const actor = actorOf(c);
    const body = c.req.valid('json');
    setRateLimitHeaders(
      c,
      await consumeTriggerLimits(
        deps,
        actor,
        body.tasks.map((item) => item.taskId),
      ),
    );
    const estimate = estimatorForOneCall();
    const outcome = await applyBulk(deps, actor, body.tasks, body.allOrNothing, (manager, item, task) =>
      triggerLockedTask(
        manager,
        deps,
        actor,
        task,
        { context: item.context, triggerReason: item.triggerReason, queue: item.queue, triggerType: 'bulk' },
        estimate,
      ),
    );
    return c.json(
      toBulkResult(outcome, body.allOrNothing, 202, (value) => ({
        executionId: value.executionId,
        estimatedCompletion: value.estimatedCompletion,
      })),
      200,
    );
  });

  router.openapi(bulkRescheduleRoute, async (c) => {
    const actor = actorOf(c);
    const body = c.req.valid('json');
    setRateLimitHeaders(
      c,
      await consumeTriggerLimits(
        deps,
        actor,
        body.tasks.map((item) => item.taskId),
      ),
    );
    const outcome = await applyBulk(
      deps,
      actor,
      body.tasks,
      body.allOrNothing,
      async (manager, item, task, index) => {
        const { taskId: _taskId, ...reschedule } = item;
        try {
          return await rescheduleLockedTask(manager, deps, actor, task, reschedule);
        } catch (error) {
          // The single call names `body.delay`; an item names its place in `tasks`.
          if (error instanceof InvalidFieldError)
            throw new InvalidFieldError(`tasks.${index}.${error.field}`, error.reason);
          throw error;
        }
      },
    );
    return c.json(
      toBulkResult(outcome, body.allOrNothing, 200, (value) => ({
        nextRunAt: value.nextRunAt,
        ...(value.executionId ? { executionId: value.executionId } : {}),
      })),
      200,
    );
  });

  return router;
}
