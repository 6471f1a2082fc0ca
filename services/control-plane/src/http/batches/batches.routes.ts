import { createRoute, z } from '@hono/zod-openapi';
import {
  BatchEventListSchema,
  BatchEventQuerySchema,
  BatchListSchema,
  BatchSchema,
  CreateBatchBodySchema,
  ListBatchesQuerySchema,
} from '@meridian/contracts/api/batch';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const Batch = BatchSchema.openapi('Batch');
const BatchList = BatchListSchema.openapi('BatchList');
const CreateBatchBody = CreateBatchBodySchema.openapi('CreateBatchBody');
const BatchEventList = BatchEventListSchema.openapi('BatchEventList');

const BatchIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Batch id (UUID)' }),
});

export const createBatchRoute = createRoute({
  method: 'post',
  path: '/tasks/batch',
  operationId: 'createBatch',
  tags: ['Batches'],
  summary: 'Create a batch: 1 to 500 tasks with dependencies, run as a saga',
  description:
    'Each task is checked and placed as `POST /tasks` does. `dependsOn` names steps of the batch or ' +
    'ids of existing tasks of the organisation. Steps without dependencies are queued at once; the ' +
    'others when all their dependencies completed. `onFailure` tasks undo a completed step when the ' +
    'batch fails (in reverse order of completion). A duplicate name, an unknown dependency, a cycle ' +
    '(`detail` gives its path, `a → b → a`: each depends on the next) or more than 500 tasks is a 400 ' +
    'naming the field (`body.tasks[3].name`). See docs/workflows.md.',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { body: { required: true, content: json(CreateBatchBody) } },
  responses: {
    201: {
      description: 'Created; `Location` points at the batch',
      headers: z.object({ Location: z.string() }),
      content: json(Batch),
    },
    ...problemResponses(400, 401, 403, 422),
  },
});

export const listBatchesRoute = createRoute({
  method: 'get',
  path: '/tasks/batches',
  operationId: 'listBatches',
  tags: ['Batches'],
  summary: 'List the batches of the caller’s organisation, newest first',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { query: ListBatchesQuerySchema },
  responses: {
    200: { description: 'One page of batches', content: json(BatchList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getBatchRoute = createRoute({
  method: 'get',
  path: '/tasks/batches/{id}',
  operationId: 'getBatch',
  tags: ['Batches'],
  summary: 'Get a batch with its DAG: each task’s state, dependencies, dependents and timings',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { params: BatchIdParams },
  responses: {
    200: { description: 'The batch', content: json(Batch) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const cancelBatchRoute = createRoute({
  method: 'delete',
  path: '/tasks/batches/{id}',
  operationId: 'cancelBatch',
  tags: ['Batches'],
  summary: 'Cancel a batch: what waits is cancelled, what runs is stopped; no compensation runs',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: BatchIdParams },
  responses: {
    200: { description: 'The batch, Cancelled', content: json(Batch) },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

export const listBatchEventsRoute = createRoute({
  method: 'get',
  path: '/tasks/batches/{id}/events',
  operationId: 'listBatchEvents',
  tags: ['Batches'],
  summary: 'The batch’s workflow events, oldest first',
  description:
    'Needs `task:read-events`. `nextCursor` points after the page’s last event (null on an empty page) ' +
    'and `hasMore` says the page was full: pass it as `cursor` for the next page, or later to follow the batch.',
  security: bearerSecurity,
  ...requiresPermission('task:read-events'),
  request: { params: BatchIdParams, query: BatchEventQuerySchema },
  responses: {
    200: { description: 'One page of events', content: json(BatchEventList) },
    ...problemResponses(400, 401, 403, 404),
  },
});
