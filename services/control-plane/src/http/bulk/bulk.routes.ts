import { createRoute, z } from '@hono/zod-openapi';
import { BulkRescheduleBodySchema } from '@meridian/contracts/api/reschedule';
import { BulkResultSchema, BulkTriggerBodySchema } from '@meridian/contracts/api/task-run';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses } from '../openapi-schemas.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const BulkResult = BulkResultSchema.openapi('BulkResult');
const BulkTriggerBody = BulkTriggerBodySchema.openapi('BulkTriggerBody');
const BulkRescheduleBody = BulkRescheduleBodySchema.openapi('BulkRescheduleBody');

const rateLimitHeaders = z.object({
  'RateLimit-Limit': z.string(),
  'RateLimit-Remaining': z.string(),
  'RateLimit-Reset': z.string(),
});

const resultDescription =
  'Per-item results in the order of `tasks`: `status` is what the single call would have answered ' +
  '(202 or 200 when applied, else 404/409/422 with a `problem`). With `allOrNothing`, an item that ' +
  'failed rolls every item back: `applied` is false, `failedItems` names the failing indexes and the ' +
  'other items answer 424 (not applied).';

export const bulkTriggerRoute = createRoute({
  method: 'post',
  path: '/tasks/bulk/trigger',
  operationId: 'bulkTriggerTasks',
  tags: ['Runs'],
  summary: 'Trigger 1 to 1,000 tasks; each item like POST /tasks/{id}/trigger',
  description: `Permission \`task:trigger\`. Each item counts one against the trigger limits. ${resultDescription}`,
  security: bearerSecurity,
  ...requiresPermission('task:trigger'),
  request: { body: { required: true, content: json(BulkTriggerBody) } },
  responses: {
    200: { description: 'Per-item results', headers: rateLimitHeaders, content: json(BulkResult) },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const bulkRescheduleRoute = createRoute({
  method: 'put',
  path: '/tasks/bulk/reschedule',
  operationId: 'bulkRescheduleTasks',
  tags: ['Runs'],
  summary: 'Reschedule 1 to 1,000 tasks; each item like PUT /tasks/{id}/reschedule with its taskId',
  description: `Permission \`task:reschedule\`. Each item counts one against the trigger limits. ${resultDescription}`,
  security: bearerSecurity,
  ...requiresPermission('task:reschedule'),
  request: { body: { required: true, content: json(BulkRescheduleBody) } },
  responses: {
    200: { description: 'Per-item results', headers: rateLimitHeaders, content: json(BulkResult) },
    ...problemResponses(400, 401, 403, 429),
  },
});
