import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateRecurringTaskBodySchema,
  ListRecurringTasksQuerySchema,
  RecurringOccurrenceSchema,
  RecurringTaskListSchema,
  RecurringTaskSchema,
  UpdateRecurringTaskBodySchema,
} from '@meridian/contracts/api/recurring';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const RecurringTask = RecurringTaskSchema.openapi('RecurringTask');
const RecurringTaskList = RecurringTaskListSchema.openapi('RecurringTaskList');
const RecurringOccurrence = RecurringOccurrenceSchema.openapi('RecurringOccurrence');
const CreateRecurringTaskBody = CreateRecurringTaskBodySchema.openapi('CreateRecurringTaskBody');
const UpdateRecurringTaskBody = UpdateRecurringTaskBodySchema.openapi('UpdateRecurringTaskBody');

const RecurringIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Recurring task id (UUID)' }),
});

const TAGS = ['Recurring tasks'];
const DOCS = 'See docs/workflows.md (Recurring tasks) for the overlap, misfire and DST rules.';

export const createRecurringTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/recurring',
  operationId: 'createRecurringTask',
  tags: TAGS,
  summary: 'Create a recurring task: a task definition and a cron schedule',
  description:
    'The task fields are checked and placed as POST /tasks does (400 naming `body.payload.<field>`, ' +
    '422 naming a field that cannot be placed); an invalid cron expression or time zone is a 400 ' +
    `naming \`body.schedule\` or \`body.timezone\`. ${DOCS}`,
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { body: { required: true, content: json(CreateRecurringTaskBody) } },
  responses: {
    201: {
      description: 'Created; `Location` points at it',
      headers: z.object({ Location: z.string() }),
      content: json(RecurringTask),
    },
    ...problemResponses(400, 401, 403, 422),
  },
});

export const listRecurringTasksRoute = createRoute({
  method: 'get',
  path: '/tasks/recurring',
  operationId: 'listRecurringTasks',
  tags: TAGS,
  summary: 'List the recurring tasks of the caller’s organisation, newest first',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { query: ListRecurringTasksQuerySchema },
  responses: {
    200: { description: 'One page of recurring tasks', content: json(RecurringTaskList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getRecurringTaskRoute = createRoute({
  method: 'get',
  path: '/tasks/recurring/{id}',
  operationId: 'getRecurringTask',
  tags: TAGS,
  summary: 'Get a recurring task with its next run and its latest occurrences',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { params: RecurringIdParams },
  responses: {
    200: { description: 'The recurring task', content: json(RecurringTask) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const updateRecurringTaskRoute = createRoute({
  method: 'patch',
  path: '/tasks/recurring/{id}',
  operationId: 'updateRecurringTask',
  tags: TAGS,
  summary: 'Change a recurring task; its next run is computed again from now',
  description: `Fields left out keep their value; \`null\` clears an optional one. ${DOCS}`,
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: RecurringIdParams, body: { required: true, content: json(UpdateRecurringTaskBody) } },
  responses: {
    200: { description: 'The changed recurring task', content: json(RecurringTask) },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

export const deleteRecurringTaskRoute = createRoute({
  method: 'delete',
  path: '/tasks/recurring/{id}',
  operationId: 'deleteRecurringTask',
  tags: TAGS,
  summary: 'Delete a recurring task; the tasks it created stay',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: RecurringIdParams },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const triggerRecurringTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/recurring/{id}/trigger',
  operationId: 'triggerRecurringTask',
  tags: TAGS,
  summary: 'Create one occurrence’s task now (also when disabled; the schedule does not move)',
  security: bearerSecurity,
  ...requiresPermission('task:trigger'),
  request: { params: RecurringIdParams },
  responses: {
    201: {
      description: 'The occurrence and its task; `Location` points at the task',
      headers: z.object({ Location: z.string() }),
      content: json(RecurringOccurrence),
    },
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});
