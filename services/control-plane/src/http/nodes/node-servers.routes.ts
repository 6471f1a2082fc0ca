import { createRoute } from '@hono/zod-openapi';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, NodeServerList, PageQuery, problemResponses } from '../openapi-schemas.js';
import { NodeIdParams } from './nodes.routes.js';

export const listNodeServersRoute = createRoute({
  method: 'get',
  path: '/nodes/{id}/servers',
  operationId: 'listNodeServers',
  tags: ['Nodes'],
  summary: 'The servers a node hosts and their states, in server id order',
  description:
    'From the node’s heartbeats (`reportedAt`: the last one that reported the server), or `assigned` ' +
    'when a ServerStart naming the node placed the server there and the node has not reported it yet. ' +
    'A node of another organisation is a 404. See docs/api/servers.md.',
  security: bearerSecurity,
  ...requiresPermission('node:read'),
  request: { params: NodeIdParams, query: PageQuery },
  responses: {
    200: { description: 'One page of servers', content: { 'application/json': { schema: NodeServerList } } },
    ...problemResponses(400, 401, 403, 404),
  },
});
