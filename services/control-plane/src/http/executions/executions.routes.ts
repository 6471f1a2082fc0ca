import { createRoute, z } from '@hono/zod-openapi';
import { ExecutionLogPageSchema, ExecutionLogQuerySchema } from '@meridian/contracts/api/execution-log';
import { requiresPermission } from '../authorize.js';
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
  ...requiresPermission('task:read'),
  request: { params: TaskIdParams, query: PageQuery },
  responses: {
    200: {
      description: 'One page of executions',
      content: { 'application/json': { schema: ExecutionList } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

const ExecutionIdParams = z.object({
  executionId: z.uuid().openapi({ param: { name: 'executionId', in: 'path' }, description: 'Execution id' }),
});

export const ExecutionLogPage = ExecutionLogPageSchema.openapi('ExecutionLogPage');

export const getExecutionLogRoute = createRoute({
  method: 'get',
  path: '/tasks/executions/{executionId}/logs',
  operationId: 'getExecutionLog',
  tags: ['Executions'],
  summary: 'Stored output lines of an execution, in seq order',
  description:
    'Lines with seq greater than `after` (-1: from the start), at most `limit`. At most ' +
    '`EXECUTION_LOG_MAX_BYTES` of output is kept per execution: the first half (head) and the newest ' +
    'lines (tail); `gaps` names the holes in the returned range (the truncated middle with its byte ' +
    'count, bytes the agent dropped). Read on with `after = nextAfter` while it is not null.',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: {
    params: ExecutionIdParams,
    query: ExecutionLogQuerySchema.extend({
      after: ExecutionLogQuerySchema.shape.after.openapi({ description: 'Return lines with seq > after' }),
      limit: ExecutionLogQuerySchema.shape.limit.openapi({ description: 'Lines per page, 1–5000' }),
    }),
  },
  responses: {
    200: { description: 'One page of lines', content: { 'application/json': { schema: ExecutionLogPage } } },
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
  ...requiresPermission('task:read'),
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
