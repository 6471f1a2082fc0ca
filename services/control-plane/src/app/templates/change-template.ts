import { randomUUID } from 'node:crypto';
import type { CreateTemplateBody, Template, UpdateTemplateBody } from '@meridian/contracts/api/template';
import { NotFoundError } from '../../domain/errors.js';
import {
  deleteTemplate as deleteTemplateRow,
  findVisibleTemplate,
  insertTemplate,
  updateTemplate as updateTemplateRow,
  type TemplateRow,
} from '../../persistence/task-templates.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { assertMayChangeTemplate } from './template-access.js';
import { checkTemplateDefinition } from './template-definition.js';
import { toTemplateDto } from './template-queries.js';

/** Stores a new template of the caller's organisation, or a global one (`template:admin`). */
export async function createTemplate(
  deps: AppDeps,
  actor: Actor,
  body: CreateTemplateBody,
): Promise<Template> {
  assertMayChangeTemplate(actor, body.global);
  checkTemplateDefinition(body);
  const now = deps.clock.now();
  const row: TemplateRow = {
    id: randomUUID(),
    orgId: body.global ? null : actor.orgId,
    name: body.name,
    description: body.description ?? null,
    category: body.category ?? null,
    tags: body.tags,
    isActive: body.isActive,
    requiredFields: body.requiredFields,
    optionalFields: body.optionalFields,
    failurePolicy: body.failurePolicy,
    tasks: body.tasks,
    createdBy: actor.userId,
    correlationId: actor.correlationId,
    createdAt: now,
    updatedAt: now,
  };
  await insertTemplate(deps.dataSource.manager, row);
  deps.logger.info(
    { templateId: row.id, correlationId: actor.correlationId, global: body.global, tasks: body.tasks.length },
    'template created',
  );
  return toTemplateDto(row);
}

/** Changes a template, checked again as a whole; a global one needs `template:admin`. */
export async function updateTemplate(
  deps: AppDeps,
  actor: Actor,
  id: string,
  body: UpdateTemplateBody,
): Promise<Template> {
  return deps.dataSource.transaction(async (manager) => {
    const row = await findVisibleTemplate(manager, actor.orgId, id, true);
    if (!row) throw new NotFoundError('template', id);
    assertMayChangeTemplate(actor, row.orgId === null);
    const defined = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
    const changed: TemplateRow = { ...row, ...defined, updatedAt: deps.clock.now() };
    checkTemplateDefinition(changed);
    await updateTemplateRow(manager, changed);
    deps.logger.info(
      { templateId: id, correlationId: actor.correlationId, fields: Object.keys(defined) },
      'template changed',
    );
    return toTemplateDto(changed);
  });
}

/** Deletes a template; the batches executed from it stay. A global one needs `template:admin`. */
export async function deleteTemplate(deps: AppDeps, actor: Actor, id: string): Promise<void> {
  await deps.dataSource.transaction(async (manager) => {
    const row = await findVisibleTemplate(manager, actor.orgId, id, true);
    if (!row) throw new NotFoundError('template', id);
    assertMayChangeTemplate(actor, row.orgId === null);
    await deleteTemplateRow(manager, id);
  });
  deps.logger.info({ templateId: id, correlationId: actor.correlationId }, 'template deleted');
}
