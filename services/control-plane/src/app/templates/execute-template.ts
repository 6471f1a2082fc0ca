import type { Batch } from '@meridian/contracts/api/batch';
import { CreateBatchBodySchema } from '@meridian/contracts/api/batch';
import type { ExecuteTemplateBody, TemplateTask } from '@meridian/contracts/api/template';
import { ConflictError, InvalidFieldsError, NotFoundError } from '../../domain/errors.js';
import { resolveTemplateDependencies } from '../../domain/template-dag.js';
import { applyOverrides, type OverrideIssue, type ResolvedTask } from '../../domain/template-overrides.js';
import { findVisibleTemplate, type TemplateRow } from '../../persistence/task-templates.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { createBatch } from '../batches/create-batch.js';
import { compilePayloadSchema, schemaViolations } from './payload-schemas.js';

/**
 * Executes a template (the organisation's own or a global one) into a batch of the caller's
 * organisation: the overrides merged into the defaults (BR-TPL-004), each payload checked against
 * its task's JSON Schema, then the batch created exactly as `POST /tasks/batch` does. Every
 * refusal is a 400 naming `body.overrides.<path>`; an inactive template is a 409.
 */
export async function executeTemplate(
  deps: AppDeps,
  actor: Actor,
  id: string,
  body: ExecuteTemplateBody,
): Promise<Batch> {
  const template = await findVisibleTemplate(deps.dataSource.manager, actor.orgId, id);
  if (!template) throw new NotFoundError('template', id);
  if (!template.isActive) throw new ConflictError(`template ${id} is not active; activate it to execute it`);

  const applied = applyOverrides(template.tasks, body.overrides, template);
  if (!applied.ok) throw new InvalidFieldsError(applied.issues);
  const violations = template.tasks.flatMap((task, index) => payloadIssues(id, task, applied.tasks[index]!));
  if (violations.length > 0) throw new InvalidFieldsError(violations);

  const parsed = CreateBatchBodySchema.safeParse(toBatchBody(template, applied.tasks, body));
  if (!parsed.success) {
    throw new InvalidFieldsError(
      parsed.error.issues.map((issue) => ({
        field: overrideField(template.tasks, issue.path),
        message: issue.message,
      })),
    );
  }
  let batch: Batch;
  try {
    batch = await createBatch(deps, actor, parsed.data);
  } catch (error) {
    // The task types' own payload checks (placement) name `tasks[i].payload…`: the caller fixes them by an override.
    if (!(error instanceof InvalidFieldsError)) throw error;
    throw new InvalidFieldsError(
      error.issues.map((issue) => ({ ...issue, field: renameTaskField(template.tasks, issue.field) })),
      error.detail,
    );
  }
  deps.logger.info(
    {
      templateId: id,
      batchId: batch.id,
      correlationId: actor.correlationId,
      overrides: Object.keys(body.overrides),
    },
    'template executed',
  );
  return batch;
}

function payloadIssues(templateId: string, task: TemplateTask, resolved: ResolvedTask): OverrideIssue[] {
  if (task.payloadSchema === undefined) return [];
  const compiled = compilePayloadSchema(task.payloadSchema);
  // Compiled when stored; one that no longer compiles (a newer validator) is the template's state, not the request's.
  if (!compiled.ok) {
    throw new ConflictError(
      `template ${templateId}: the payloadSchema of task "${task.name}" ${compiled.message}; change the template`,
    );
  }
  return schemaViolations(compiled.validate, resolved.payload).map((violation) => ({
    field: ['overrides', task.name, 'payload', ...violation.path].join('.'),
    message: violation.message,
  }));
}

/** The batch's body, parsed (and so checked) by the caller as `POST /tasks/batch` parses its own. */
function toBatchBody(
  template: TemplateRow,
  resolved: ResolvedTask[],
  body: ExecuteTemplateBody,
): Record<string, unknown> {
  const dependencies = resolveTemplateDependencies(template.tasks);
  const target = { targetId: body.targetId, ...(body.nodeId === undefined ? {} : { nodeId: body.nodeId }) };
  const metadata = { templateId: template.id, templateName: template.name };
  return {
    name: body.name ?? template.name,
    failurePolicy: template.failurePolicy,
    tasks: template.tasks.map((task, index) => {
      const { order: _order, payloadSchema: _schema, dependsOn: _dependsOn, onFailure, ...fields } = task;
      const step: Record<string, unknown> = { ...fields, ...resolved[index]!.fields };
      const targetType = step['targetType'] ?? body.targetType;
      return {
        ...step,
        ...target,
        targetType,
        payload: resolved[index]!.payload,
        metadata,
        dependsOn: dependencies[index]!.dependsOn,
        onFailure: onFailure.map((compensation) => ({
          ...compensation,
          ...target,
          targetType: compensation.targetType ?? targetType,
          metadata,
        })),
      };
    }),
  };
}

/** A batch body's path (`['tasks', 2, 'timeoutSeconds']`) as the override that set it. */
function overrideField(tasks: readonly TemplateTask[], path: readonly PropertyKey[]): string {
  const [head, index, ...rest] = path;
  if (head !== 'tasks' || typeof index !== 'number' || !tasks[index]) return path.map(String).join('.');
  return ['overrides', tasks[index].name, ...rest.map(String)].join('.');
}

function renameTaskField(tasks: readonly TemplateTask[], field: string): string {
  const match = /^tasks\[(\d+)\]\.(payload(?:\..*)?)$/.exec(field);
  const task = match ? tasks[Number(match[1])] : undefined;
  return task ? `overrides.${task.name}.${match![2]}` : field;
}
