import type { ListTemplatesQuery, Template, TemplateList } from '@meridian/contracts/api/template';
import { NotFoundError } from '../../domain/errors.js';
import {
  findVisibleTemplate,
  listVisibleTemplates,
  type TemplateRow,
} from '../../persistence/task-templates.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';

/** The organisation's templates and the global ones, newest first. */
export async function listTemplates(
  deps: AppDeps,
  actor: Actor,
  query: ListTemplatesQuery,
): Promise<TemplateList> {
  const { rows, total } = await listVisibleTemplates(deps.dataSource.manager, actor.orgId, query);
  return { items: rows.map(toTemplateDto), page: query.page, limit: query.limit, total };
}

/** A template of the caller's organisation or a global one; any other is "not found". */
export async function getTemplate(deps: AppDeps, actor: Actor, id: string): Promise<Template> {
  const row = await findVisibleTemplate(deps.dataSource.manager, actor.orgId, id);
  if (!row) throw new NotFoundError('template', id);
  return toTemplateDto(row);
}

export function toTemplateDto(row: TemplateRow): Template {
  return {
    id: row.id,
    orgId: row.orgId,
    global: row.orgId === null,
    name: row.name,
    description: row.description,
    category: row.category,
    tags: row.tags,
    isActive: row.isActive,
    requiredFields: row.requiredFields,
    optionalFields: row.optionalFields,
    failurePolicy: row.failurePolicy,
    tasks: row.tasks,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
