import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../authorize.js';
import {
  bearerSecurity,
  Execution,
  ExecutionList,
  PageQuery,
  problemResponses,
  TaskIdParams,
} from '../openapi-schemas.js';

export const listExecutionsRoute = createRoute({
  method: 'get',
  path: '/tasks/{id}/executions',
  operationId: 'listExecutions',
  tags: ['Executions'],
  summary: 'The attempts of a task, first attempt first',
  security: bearerSecurity,
  middleware: requirePermission('task:read'),
  request: { params: TaskIdParams, query: PageQuery },
  responses: {
    200: {
      description: 'One page of executions',
      content: { 'application/json': { schema: ExecutionList } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const getExecutionRoute = createRoute({
  method: 'get',
  path: '/tasks/executions/{executionId}',
  operationId: 'getExecution',
  tags: ['Executions'],
  summary: 'Get one execution (attempt) of a task',
  security: bearerSecurity,
  middleware: requirePermission('task:read'),
  request: {
    params: z.object({
      executionId: z
        .uuid()
        .openapi({ param: { name: 'executionId', in: 'path' }, description: 'Execution id' }),
    }),
  },
  responses: {
    200: { description: 'The execution', content: { 'application/json': { schema: Execution } } },
    ...problemResponses(400, 401, 403, 404),
  },
});
