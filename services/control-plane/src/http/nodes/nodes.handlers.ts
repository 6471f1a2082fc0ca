import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../../app/app-deps.js';
import { getNode, listNodes } from '../../app/node-queries.js';
import { listNodeServers } from '../../app/node-server-queries.js';
import { revokeNode } from '../../app/revoke-node.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { listNodeServersRoute } from './node-servers.routes.js';
import { deleteNodeRoute, getNodeRoute, listNodesRoute, revokeNodeRoute } from './nodes.routes.js';

/** `/nodes` operations; mount under `/api/v1` behind `authenticate`. */
export function createNodeRouter(deps: AppDeps): OpenAPIHono<HttpEnv> {
  const router = new OpenAPIHono<HttpEnv>();

  router.openapi(listNodesRoute, async (c) => c.json({ items: await listNodes(deps, actorOf(c)) }, 200));

  router.openapi(getNodeRoute, async (c) =>
    c.json(await getNode(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(listNodeServersRoute, async (c) =>
    c.json(await listNodeServers(deps, actorOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );

  router.openapi(deleteNodeRoute, async (c) =>
    c.json(await revokeNode(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(revokeNodeRoute, async (c) =>
    c.json(await revokeNode(deps, actorOf(c), c.req.valid('param').id), 200),
  );

  return router;
}
