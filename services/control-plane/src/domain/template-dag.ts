/**
 * A template's tasks as a batch's graph: `dependsOn` as given, or, for a task with an `order` and
 * no `dependsOn`, every task of a lower order. The batch's own checks (batch-dag.ts) then apply.
 */

export interface TemplateStep {
  name: string;
  order?: number | undefined;
  dependsOn?: readonly string[] | undefined;
}

export function resolveTemplateDependencies(
  steps: readonly TemplateStep[],
): { name: string; dependsOn: string[] }[] {
  return steps.map((step) => {
    if (step.dependsOn !== undefined) return { name: step.name, dependsOn: [...step.dependsOn] };
    if (step.order === undefined) return { name: step.name, dependsOn: [] };
    const before = steps.filter((other) => other.order !== undefined && other.order < step.order!);
    return { name: step.name, dependsOn: before.map((other) => other.name) };
  });
}

/**
 * A DAG issue's field (`tasks[2].dependsOn[1]`) for the template: a dependency that came from
 * `order` is named `tasks[2].order`, since the request has no such `dependsOn` entry.
 */
export function templateDagField(field: string, steps: readonly TemplateStep[]): string {
  const match = /^tasks\[(\d+)\]\.dependsOn\[\d+\]$/.exec(field);
  if (!match) return field;
  const index = Number(match[1]);
  return steps[index]?.dependsOn === undefined ? `tasks[${index}].order` : field;
}
