import { createRoute, z } from '@hono/zod-openapi';
import { CancelTaskQuerySchema, ListTasksQuerySchema } from '@meridian/contracts/api/task';
import { requirePermission } from '../authorize.js';
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

export const createTaskRoute = createRoute({
  method: 'post',
  path: '/tasks',
  operationId: 'createTask',
  tags: ['Tasks'],
  summary: 'Create a task and queue it for dispatch',
  security: bearerSecurity,
  middleware: requirePermission('task:write'),
  request: { body: { required: true, content: json(CreateTaskBody) } },
  responses: {
    201: {
      description: 'Created; `Location` points at the new task',
      headers: z.object({ Location: z.string() }),
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
  middleware: requirePermission('task:read'),
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
  middleware: requirePermission('task:read'),
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
  middleware: requirePermission('task:write'),
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
  middleware: requirePermission('task:write'),
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
  summary: 'The audit log of a task, oldest first',
  security: bearerSecurity,
  middleware: requirePermission('task:read'),
  request: { params: TaskIdParams },
  responses: {
    200: { description: 'The task’s events', content: json(TaskEventList) },
    ...problemResponses(400, 401, 403, 404),
  },
});
