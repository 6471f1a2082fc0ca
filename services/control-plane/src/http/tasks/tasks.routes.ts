import { createRoute, z } from '@hono/zod-openapi';
import { CancelTaskQuerySchema, ListTasksQuerySchema } from '@meridian/contracts/api/task';
import { parseIdempotencyKey } from '../../domain/idempotency-key.js';
import { requiresPermission } from '../authorize.js';
import { EVENT_ROUTE_NOTES, EventQueryParams } from '../events/event-page.js';
import {
  bearerSecurity,
  CancelTaskBody,
  CreateTaskBody,
  problemResponses,
  Task,
  TaskEventList,
  TaskIdParams,
  TaskList,
} from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const keyDescription =
  'Makes the create safe to retry. The same key with the same body within 24 hours answers the ' +
  'first response again (with `Idempotent-Replayed: true`) and creates nothing; with another body it ' +
  'is a 422. Keys belong to the caller’s organisation; 1 to 255 visible ASCII characters, no spaces, ' +
  'quotes or backslashes (a quoted string is accepted).';

export const IdempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .optional()
      .openapi({ param: { in: 'header' }, description: keyDescription }),
    'x-idempotency-key': z
      .string()
      .optional()
      .openapi({
        param: { in: 'header' },
        description: 'Synonym of `Idempotency-Key` (seed 000’s name); both may be sent if they agree.',
      }),
  })
  .superRefine((headers, ctx) => {
    const parsed = parseIdempotencyKey({
      idempotencyKey: headers['idempotency-key'],
      xIdempotencyKey: headers['x-idempotency-key'],
    });
    if (!parsed.ok) ctx.addIssue({ code: 'custom', path: [parsed.header], message: parsed.message });
  });

export const createTaskRoute = createRoute({
  method: 'post',
  path: '/tasks',
  operationId: 'createTask',
  tags: ['Tasks'],
  summary: 'Create a task and queue it for dispatch',
  description:
    'The payload of a task type the agent runs is validated with its schema (400 naming ' +
    "`body.payload.<field>`). A `Server` task goes to the node hosting the server, a new server's " +
    'first ServerStart to its `nodeId`; a `Node` task to the node `targetId` names (422 naming the ' +
    'field otherwise). See docs/api/servers.md.',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { headers: IdempotencyHeaders, body: { required: true, content: json(CreateTaskBody) } },
  responses: {
    201: {
      description:
        'Created; `Location` points at the new task. Under an idempotency key already used with this ' +
        'body, the first response again, with `Idempotent-Replayed: true`.',
      headers: z.object({
        Location: z.string(),
        'Idempotent-Replayed': z.literal('true').optional(),
      }),
      content: json(Task),
    },
    ...problemResponses(400, 401, 403, 422),
  },
});

export const listTasksRoute = createRoute({
  method: 'get',
  path: '/tasks',
  operationId: 'listTasks',
  tags: ['Tasks'],
  summary: 'List the tasks of the caller’s organisation, filtered, sorted and paginated',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { query: ListTasksQuerySchema },
  responses: {
    200: { description: 'One page of tasks', content: json(TaskList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getTaskRoute = createRoute({
  method: 'get',
  path: '/tasks/{id}',
  operationId: 'getTask',
  tags: ['Tasks'],
  summary: 'Get a task',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { params: TaskIdParams },
  responses: {
    200: { description: 'The task', content: json(Task) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const cancelTaskRoute = createRoute({
  method: 'delete',
  path: '/tasks/{id}',
  operationId: 'cancelTask',
  tags: ['Tasks'],
  summary: 'Cancel a task that has not finished',
  description: 'The reason comes from the optional JSON body or, failing that, the `reason` query parameter.',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: {
    params: TaskIdParams,
    query: CancelTaskQuerySchema,
    body: { required: false, content: json(CancelTaskBody) },
  },
  responses: {
    200: { description: 'The cancelled task', content: json(Task) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export const retryTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/{id}/retry',
  operationId: 'retryTask',
  tags: ['Tasks'],
  summary: 'Queue a Failed or Timeout task again',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: TaskIdParams },
  responses: {
    200: { description: 'The task, back in the queue', content: json(Task) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export const listTaskEventsRoute = createRoute({
  method: 'get',
  path: '/tasks/{id}/events',
  operationId: 'listTaskEvents',
  tags: ['Tasks'],
  summary: 'The audit log of a task, oldest first, filtered and paginated',
  description: `${EVENT_ROUTE_NOTES} Ordered by event id. Another organisation’s task is a 404.`,
  security: bearerSecurity,
  ...requiresPermission('task:read-events'),
  request: { params: TaskIdParams, query: EventQueryParams },
  responses: {
    200: { description: 'One page of the task’s events', content: json(TaskEventList) },
    ...problemResponses(400, 401, 403, 404),
  },
});
