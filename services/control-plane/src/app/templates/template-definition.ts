import type { TemplateTask } from '@meridian/contracts/api/template';
import { TEMPLATE_MAX_TASKS } from '@meridian/contracts/api/template';
import { checkBatchDag } from '../../domain/batch-dag.js';
import { InvalidFieldsError } from '../../domain/errors.js';
import { resolveTemplateDependencies, templateDagField } from '../../domain/template-dag.js';
import { checkDeclaredFields } from '../../domain/template-overrides.js';
import { compilePayloadSchema } from './payload-schemas.js';

export interface TemplateDefinition {
  tasks: readonly TemplateTask[];
  requiredFields: readonly string[];
  optionalFields: readonly string[];
}

/**
 * Checks a template as a whole before it is stored: its graph by the batch's rules (names unique,
 * dependencies among its tasks, no cycle, the size limit), every payload schema compiled, and
 * every declared field a path that names a task's field. Throws a 400 naming each field.
 */
export function checkTemplateDefinition(definition: TemplateDefinition): void {
  const { tasks } = definition;
  const dag = checkBatchDag(resolveTemplateDependencies(tasks), new Set(), TEMPLATE_MAX_TASKS);
  if (!dag.ok) {
    const issues = dag.issues.map((issue) => ({ ...issue, field: templateDagField(issue.field, tasks) }));
    throw new InvalidFieldsError(issues, dag.detail);
  }
  const issues = tasks.flatMap((task, index) => {
    if (task.payloadSchema === undefined) return [];
    const compiled = compilePayloadSchema(task.payloadSchema);
    return compiled.ok ? [] : [{ field: `tasks[${index}].payloadSchema`, message: compiled.message }];
  });
  issues.push(...checkDeclaredFields(tasks, definition));
  if (issues.length > 0) throw new InvalidFieldsError(issues);
}
