import { isUnstorableText } from '@meridian/contracts/storable';
import { createRoute, z } from '@hono/zod-openapi';
import { requiresPermission } from '../authorize.js';
import { bearerSecurity, Node, NodeList, problemResponses } from '../openapi-schemas.js';

export const listNodesRoute = createRoute({
  method: 'get',
  path: '/nodes',
  operationId: 'listNodes',
  tags: ['Nodes'],
  summary: 'The nodes of the caller’s organisation whose agents have announced themselves',
  security: bearerSecurity,
  ...requiresPermission('node:read'),
  responses: {
    200: { description: 'The nodes', content: { 'application/json': { schema: NodeList } } },
    ...problemResponses(401, 403),
  },
});

export const NodeIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .refine((id) => !isUnstorableText(id), 'must not contain NUL or lone surrogates')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'Node id' }),
});

export const getNodeRoute = createRoute({
  method: 'get',
  path: '/nodes/{id}',
  operationId: 'getNode',
  tags: ['Nodes'],
  summary: 'Get a node',
  security: bearerSecurity,
  ...requiresPermission('node:read'),
  request: { params: NodeIdParams },
  responses: {
    200: { description: 'The node', content: { 'application/json': { schema: Node } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

const REVOKE_DESCRIPTION =
  'Needs `node:admin`. The node takes no more work; its broker user is deleted at once, which ' +
  'closes its connections, and its queues with the commands they held; its unfinished executions end ' +
  '`AgentLost` and their tasks are retried per policy on another node (a task pinned to the node ' +
  'waits for it). Its messages are refused from then on. It can be enrolled again with a new ' +
  'enrollment. Revoking a revoked node answers it again. A node of another organisation is a 404.';

function revokeRoute(method: 'delete' | 'post', path: string, operationId: string) {
  return createRoute({
    method,
    path,
    operationId,
    tags: ['Nodes'],
    summary: 'Revoke a node: cut its agent off and give up its executions',
    description: REVOKE_DESCRIPTION,
    security: bearerSecurity,
    ...requiresPermission('node:admin'),
    request: { params: NodeIdParams },
    responses: {
      200: { description: 'The node, revoked', content: { 'application/json': { schema: Node } } },
      ...problemResponses(400, 401, 403, 404),
    },
  });
}

export const deleteNodeRoute = revokeRoute('delete', '/nodes/{id}', 'deleteNode');
export const revokeNodeRoute = revokeRoute('post', '/nodes/{id}/revoke', 'revokeNode');
