import { isUnstorableText } from '@meridian/contracts/storable';
import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../authorize.js';
import { bearerSecurity, Node, NodeList, problemResponses } from '../openapi-schemas.js';

export const listNodesRoute = createRoute({
  method: 'get',
  path: '/nodes',
  operationId: 'listNodes',
  tags: ['Nodes'],
  summary: 'The nodes of the caller’s organisation whose agents have announced themselves',
  security: bearerSecurity,
  middleware: requirePermission('node:read'),
  responses: {
    200: { description: 'The nodes', content: { 'application/json': { schema: NodeList } } },
    ...problemResponses(401, 403),
  },
});

export const getNodeRoute = createRoute({
  method: 'get',
  path: '/nodes/{id}',
  operationId: 'getNode',
  tags: ['Nodes'],
  summary: 'Get a node',
  security: bearerSecurity,
  middleware: requirePermission('node:read'),
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(200)
        .refine((id) => !isUnstorableText(id), 'must not contain NUL or lone surrogates')
        .openapi({ param: { name: 'id', in: 'path' }, description: 'Node id' }),
    }),
  },
  responses: {
    200: { description: 'The node', content: { 'application/json': { schema: Node } } },
    ...problemResponses(400, 401, 403, 404),
  },
});
