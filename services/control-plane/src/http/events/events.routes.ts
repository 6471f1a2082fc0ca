import { createRoute } from '@hono/zod-openapi';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, problemResponses, TaskEventList } from '../openapi-schemas.js';
import { EVENT_ROUTE_NOTES, EventQueryParams } from './event-page.js';

export const listOrgEventsRoute = createRoute({
  method: 'get',
  path: '/events',
  operationId: 'listEvents',
  tags: ['Tasks'],
  summary: 'The audit events of every task of the caller’s organisation, in commit order',
  description:
    `${EVENT_ROUTE_NOTES} Ordered by the writing transaction, then by event id. An event appears ` +
    'once every transaction that began before its own has ended (normally within milliseconds), so ' +
    'that none can later take a place before a cursor already handed out.',
  security: bearerSecurity,
  ...requiresPermission('task:read-events'),
  request: { query: EventQueryParams },
  responses: {
    200: { description: 'One page of events', content: { 'application/json': { schema: TaskEventList } } },
    ...problemResponses(400, 401, 403),
  },
});
