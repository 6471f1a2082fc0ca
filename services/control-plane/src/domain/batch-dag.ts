/**
 * The checks of a new batch's graph, before anything is stored: names unique, every dependency a
 * step of the batch or an existing task, no step depending on itself, no cycle, the size limit.
 * Pure: the caller says which external ids exist.
 */

/** Most steps one batch may hold (compensations not counted). */
export const BATCH_MAX_TASKS = 500;

export interface DagStep {
  name: string;
  dependsOn: readonly string[];
}

export interface DagIssue {
  /** The field's path in the request body, e.g. `tasks[3].name`. */
  field: string;
  message: string;
}

export type DagCheck =
  | {
      ok: true;
      /** Step indexes, every step after its dependencies (ties in request order). */
      order: number[];
      /** Per step, its dependencies: indexes of steps, or ids of external tasks. */
      dependencies: { steps: number[]; external: string[] }[];
    }
  | { ok: false; issues: DagIssue[]; detail: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isTaskId(reference: string): boolean {
  return UUID.test(reference);
}

/** The external task ids `steps` refer to, for the caller to look up. */
export function externalReferences(steps: readonly DagStep[]): string[] {
  const names = new Set(steps.map((step) => step.name));
  const ids = steps.flatMap((step) => step.dependsOn.filter((ref) => !names.has(ref) && isTaskId(ref)));
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

export function checkBatchDag(
  steps: readonly DagStep[],
  existingTaskIds: ReadonlySet<string>,
  maxSteps: number,
): DagCheck {
  if (steps.length > maxSteps) {
    const message = `holds ${steps.length} tasks; a batch holds at most ${maxSteps}`;
    return { ok: false, issues: [{ field: 'tasks', message }], detail: `tasks ${message}` };
  }
  const issues: DagIssue[] = [];
  const indexOf = new Map<string, number>();
  steps.forEach((step, index) => {
    const first = indexOf.get(step.name);
    if (first === undefined) indexOf.set(step.name, index);
    else
      issues.push({
        field: `tasks[${index}].name`,
        message: `"${step.name}" is already the name of tasks[${first}]`,
      });
  });
  const dependencies = steps.map((step, index) => {
    const resolved = { steps: [] as number[], external: [] as string[] };
    step.dependsOn.forEach((ref, position) => {
      const field = `tasks[${index}].dependsOn[${position}]`;
      const target = indexOf.get(ref);
      if (target === index) issues.push({ field, message: `"${ref}" is the task itself` });
      else if (target !== undefined) resolved.steps.push(target);
      else if (isTaskId(ref) && existingTaskIds.has(ref.toLowerCase()))
        resolved.external.push(ref.toLowerCase());
      else issues.push({ field, message: `"${ref}" is neither a task of this batch nor an existing task` });
    });
    resolved.steps = [...new Set(resolved.steps)];
    resolved.external = [...new Set(resolved.external)];
    return resolved;
  });
  if (issues.length > 0)
    return { ok: false, issues, detail: `invalid ${issues.map((i) => i.field).join(', ')}` };

  const cycle = findCycle(dependencies.map((d) => d.steps));
  if (cycle) {
    const path = [...cycle, cycle[0]!].map((index) => steps[index]!.name).join(' → ');
    const first = cycle[0]!;
    const position = steps[first]!.dependsOn.indexOf(steps[cycle[1]!]!.name);
    const message = `is part of the cycle ${path} (each task depends on the next)`;
    return {
      ok: false,
      issues: [{ field: `tasks[${first}].dependsOn[${position}]`, message }],
      detail: `the tasks' dependencies form a cycle: ${path}`,
    };
  }
  return { ok: true, order: topologicalOrder(dependencies.map((d) => d.steps)), dependencies };
}

/**
 * A cycle as step indexes `[a, b, c]`: a depends on b, b on c, c on a; null when the graph is
 * acyclic. Iterative depth-first search (a 500-deep chain must not overflow the stack).
 */
export function findCycle(dependsOn: readonly (readonly number[])[]): number[] | null {
  const state = new Array<0 | 1 | 2>(dependsOn.length).fill(0); // unseen, on the path, done
  for (let root = 0; root < dependsOn.length; root += 1) {
    if (state[root] !== 0) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    state[root] = 1;
    while (path.length > 0) {
      const node = path[path.length - 1]!;
      const edges = dependsOn[node]!;
      const edge = next[next.length - 1]!;
      if (edge >= edges.length) {
        state[node] = 2;
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = edge + 1;
      const dependency = edges[edge]!;
      if (state[dependency] === 1) return path.slice(path.indexOf(dependency));
      if (state[dependency] === 0) {
        state[dependency] = 1;
        path.push(dependency);
        next.push(0);
      }
    }
  }
  return null;
}

/** Kahn's algorithm, taking the lowest ready index first so that independent steps keep request order. */
export function topologicalOrder(dependsOn: readonly (readonly number[])[]): number[] {
  const remaining = dependsOn.map((deps) => deps.length);
  const dependents = dependsOn.map(() => [] as number[]);
  dependsOn.forEach((deps, index) => deps.forEach((dep) => dependents[dep]!.push(index)));
  const ready = remaining.flatMap((count, index) => (count === 0 ? [index] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const index = ready.shift()!;
    order.push(index);
    for (const dependent of dependents[index]!) {
      remaining[dependent]! -= 1;
      if (remaining[dependent] === 0) ready.push(dependent);
    }
  }
  return order;
}
