import { createRoute, z } from '@hono/zod-openapi';
import {
  MAX_QUEUED_RUNS,
  TriggerResponseSchema,
  TriggerTaskBodySchema,
} from '@meridian/contracts/api/task-run';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses, TaskIdParams } from '../openapi-schemas.js';
import { IdempotencyHeaders } from './tasks.routes.js';
import { RateLimitHeadersDoc } from '../rate-limit-headers.js';

export const TriggerTaskBody = TriggerTaskBodySchema.openapi('TriggerTaskBody');
export const TriggerResponse = TriggerResponseSchema.openapi('TriggerResponse');

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const description =
  'Needs `task:trigger`. Starts a new run of a Completed, Failed or Timeout task: the task goes to ' +
  'Pending and is dispatched as usual; `executionId` is the id its first attempt will carry ' +
  '(GET /tasks/executions/{id} answers 404 until it is dispatched, normally within milliseconds). ' +
  'A task whose run is in progress (Pending, Scheduled, Running, Retrying) answers 409 unless ' +
  `\`queue: true\`: the run then waits behind the current one (at most ${MAX_QUEUED_RUNS} waiting). ` +
  'Paused and Cancelled tasks answer 409. With `Idempotency-Key` (or `X-Idempotency-Key`), the same ' +
  'key with the same task and body within 24 hours answers the first response again and starts ' +
  'nothing; with another task or body it is a 422. `/trigger` and `/execute` share their keys.';

function triggerRoute(
  path: '/tasks/{id}/trigger' | '/tasks/{id}/execute',
  operationId: string,
  summary: string,
) {
  return createRoute({
    method: 'post',
    path,
    operationId,
    tags: ['Tasks'],
    summary,
    description,
    security: bearerSecurity,
    ...requiresPermission('task:trigger'),
    request: {
      params: TaskIdParams,
      headers: IdempotencyHeaders,
      body: { required: false, content: json(TriggerTaskBody) },
    },
    responses: {
      202: {
        description:
          'The run is started or queued; `Location` points at its first execution. Under an idempotency ' +
          'key already used with this task and body, the first response again, with `Idempotent-Replayed: true`.',
        headers: RateLimitHeadersDoc.extend({
          Location: z.string(),
          'Idempotent-Replayed': z.literal('true').optional(),
        }),
        content: json(TriggerResponse),
      },
      ...problemResponses(400, 401, 403, 404, 409, 422, 429),
    },
  });
}

export const triggerTaskRoute = triggerRoute('/tasks/{id}/trigger', 'triggerTask', 'Run a task again');
export const executeTaskRoute = triggerRoute(
  '/tasks/{id}/execute',
  'executeTask',
  'Run a task again (the trigger under seed 002’s name)',
);
