import type { Execution, ExecutionList } from '@meridian/contracts/api/execution';
import { NotFoundError } from '../domain/errors.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { toExecutionDto } from '../persistence/mappers.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { findTaskOfOrg } from './task-queries.js';

export interface PageQuery {
  page: number;
  limit: number;
}

export async function listExecutions(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  page: PageQuery,
): Promise<ExecutionList> {
  await findTaskOfOrg(deps, actor, taskId);
  const [rows, total] = await deps.dataSource.getRepository(ExecutionEntity).findAndCount({
    where: { taskId, orgId: actor.orgId },
    order: { attempt: 'ASC' },
    skip: (page.page - 1) * page.limit,
    take: page.limit,
  });
  return { items: rows.map(toExecutionDto), page: page.page, limit: page.limit, total };
}

export async function getExecution(deps: AppDeps, actor: Actor, executionId: string): Promise<Execution> {
  const execution = await deps.dataSource
    .getRepository(ExecutionEntity)
    .findOneBy({ id: executionId, orgId: actor.orgId });
  if (!execution) throw new NotFoundError('execution', executionId);
  return toExecutionDto(execution);
}
