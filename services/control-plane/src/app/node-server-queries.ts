import type { NodeServerList } from '@meridian/contracts/api/node-server';
import { NotFoundError } from '../domain/errors.js';
import { NodeServerEntity } from '../persistence/entities/node-server.entity.js';
import { NodeEntity } from '../persistence/entities/node.entity.js';
import { toNodeServerDto } from '../persistence/mappers.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import type { PageQuery } from './execution-queries.js';

/** One page of the servers a node of the caller's organisation hosts, in server id order. */
export async function listNodeServers(
  deps: AppDeps,
  actor: Actor,
  nodeId: string,
  page: PageQuery,
): Promise<NodeServerList> {
  const node = await deps.dataSource.getRepository(NodeEntity).existsBy({ id: nodeId, orgId: actor.orgId });
  if (!node) throw new NotFoundError('node', nodeId);
  const [rows, total] = await deps.dataSource.getRepository(NodeServerEntity).findAndCount({
    where: { orgId: actor.orgId, nodeId },
    order: { serverId: 'ASC' },
    skip: (page.page - 1) * page.limit,
    take: page.limit,
  });
  return { items: rows.map(toNodeServerDto), page: page.page, limit: page.limit, total };
}
