import { createRoute, z } from '@hono/zod-openapi';
import { BatchSchema } from '@meridian/contracts/api/batch';
import {
  CreateTemplateBodySchema,
  ExecuteTemplateBodySchema,
  ListTemplatesQuerySchema,
  TemplateListSchema,
  TemplateSchema,
  UpdateTemplateBodySchema,
} from '@meridian/contracts/api/template';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const Template = TemplateSchema.openapi('Template');
const TemplateList = TemplateListSchema.openapi('TemplateList');
const CreateTemplateBody = CreateTemplateBodySchema.openapi('CreateTemplateBody');
const UpdateTemplateBody = UpdateTemplateBodySchema.openapi('UpdateTemplateBody');
const ExecuteTemplateBody = ExecuteTemplateBodySchema.openapi('ExecuteTemplateBody');
const Batch = BatchSchema.openapi('Batch');

const TemplateIdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'Template id (UUID)' }),
});

const GLOBAL_NOTE =
  'A global template (`global: true`, visible to every organisation) is created, changed and deleted ' +
  'only with the `template:admin` permission as well (403 otherwise).';

export const createTemplateRoute = createRoute({
  method: 'post',
  path: '/tasks/templates',
  operationId: 'createTemplate',
  tags: ['Templates'],
  summary: 'Create a task template: a named DAG of task definitions with payload defaults and schemas',
  description:
    'The batch rules apply to `tasks` (unique names, `dependsOn` among them, no cycle, at most 500); ' +
    '`order` without `dependsOn` runs a task after every task of a lower order. Each `payloadSchema` is ' +
    'compiled (a bad one is a 400 naming it); `requiredFields`/`optionalFields` are override paths. ' +
    GLOBAL_NOTE,
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { body: { required: true, content: json(CreateTemplateBody) } },
  responses: {
    201: {
      description: 'Created; `Location` points at the template',
      headers: z.object({ Location: z.string() }),
      content: json(Template),
    },
    ...problemResponses(400, 401, 403),
  },
});

export const listTemplatesRoute = createRoute({
  method: 'get',
  path: '/tasks/templates',
  operationId: 'listTemplates',
  tags: ['Templates'],
  summary: 'List the organisation’s templates and the global ones, newest first',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { query: ListTemplatesQuerySchema },
  responses: {
    200: { description: 'One page of templates', content: json(TemplateList) },
    ...problemResponses(400, 401, 403),
  },
});

export const getTemplateRoute = createRoute({
  method: 'get',
  path: '/tasks/templates/{id}',
  operationId: 'getTemplate',
  tags: ['Templates'],
  summary: 'Get a template of the organisation, or a global one',
  security: bearerSecurity,
  ...requiresPermission('task:read'),
  request: { params: TemplateIdParams },
  responses: {
    200: { description: 'The template', content: json(Template) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const updateTemplateRoute = createRoute({
  method: 'patch',
  path: '/tasks/templates/{id}',
  operationId: 'updateTemplate',
  tags: ['Templates'],
  summary: 'Change a template; it is checked again as a whole',
  description: GLOBAL_NOTE,
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: TemplateIdParams, body: { required: true, content: json(UpdateTemplateBody) } },
  responses: {
    200: { description: 'The template', content: json(Template) },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const deleteTemplateRoute = createRoute({
  method: 'delete',
  path: '/tasks/templates/{id}',
  operationId: 'deleteTemplate',
  tags: ['Templates'],
  summary: 'Delete a template; the batches executed from it stay',
  description: GLOBAL_NOTE,
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: TemplateIdParams },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const executeTemplateRoute = createRoute({
  method: 'post',
  path: '/tasks/templates/{id}/execute',
  operationId: 'executeTemplate',
  tags: ['Templates'],
  summary: 'Execute a template into a batch, with overrides by dot path',
  description:
    '`overrides` maps `<task>.payload.<path>` (deep-merged into the default payload: the override wins, ' +
    'arrays are replaced) or `<task>.timeoutSeconds|maxRetries|priority|targetType|description` to a ' +
    'value. A missing required field, a path that names no field of the template, or a payload that ' +
    'breaks its task’s JSON Schema is a 400 naming `body.overrides.<path>`; an inactive template is a 409. ' +
    'The batch is created as `POST /tasks/batch` creates one (see docs/workflows.md).',
  security: bearerSecurity,
  ...requiresPermission('task:write'),
  request: { params: TemplateIdParams, body: { required: true, content: json(ExecuteTemplateBody) } },
  responses: {
    201: {
      description: 'The batch; `Location` points at it',
      headers: z.object({ Location: z.string() }),
      content: json(Batch),
    },
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});
