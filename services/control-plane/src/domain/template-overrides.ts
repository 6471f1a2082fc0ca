/**
 * A template's override paths (`backup.payload.retentionDays`, `stop.timeoutSeconds`): parsing,
 * which paths name a field of the template, required fields, and BR-TPL-004's "default config
 * merged with user config" (a deep merge, the override wins; arrays and scalars are replaced).
 * Pure: no I/O, no clock.
 */

/** The task fields besides the payload that an override may set. */
export const OVERRIDABLE_TASK_FIELDS = [
  'description',
  'targetType',
  'timeoutSeconds',
  'maxRetries',
  'priority',
] as const;
export type OverridableTaskField = (typeof OVERRIDABLE_TASK_FIELDS)[number];

/** Segments that would reach an object's prototype when written: refused in every path. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

export type OverrideTarget =
  | { task: string; kind: 'payload'; path: string[] }
  | { task: string; kind: 'field'; field: OverridableTaskField };

export type ParsedPath = { ok: true; target: OverrideTarget } | { ok: false; message: string };

export interface OverridableTask {
  name: string;
  payload: Record<string, unknown>;
  payloadSchema?: Record<string, unknown> | undefined;
}

export interface OverrideIssue {
  /** The field's path in the execute request, e.g. `overrides.backup.payload.retentionDays`. */
  field: string;
  message: string;
}

export interface ResolvedTask {
  name: string;
  payload: Record<string, unknown>;
  fields: Partial<Record<OverridableTaskField, unknown>>;
}

/**
 * `<task>.payload[.<key>…]` or `<task>.<field>`. A task name may itself hold dots: the longest
 * task name the path starts with is taken.
 */
export function parseOverridePath(path: string, taskNames: readonly string[]): ParsedPath {
  const task = [...taskNames].sort((a, b) => b.length - a.length).find((name) => path.startsWith(`${name}.`));
  if (task === undefined)
    return { ok: false, message: 'does not start with the name of a task of the template' };
  const rest = path.slice(task.length + 1).split('.');
  if (rest.some((segment) => segment === '')) return { ok: false, message: 'has an empty segment' };
  const forbidden = rest.find((segment) => FORBIDDEN_SEGMENTS.has(segment));
  if (forbidden !== undefined) return { ok: false, message: `may not hold the segment "${forbidden}"` };
  const [head, ...tail] = rest;
  if (head === 'payload') return { ok: true, target: { task, kind: 'payload', path: tail } };
  if (tail.length === 0 && (OVERRIDABLE_TASK_FIELDS as readonly string[]).includes(head!)) {
    return { ok: true, target: { task, kind: 'field', field: head as OverridableTaskField } };
  }
  return {
    ok: false,
    message: `names no field of task "${task}" (payload.<path>, ${OVERRIDABLE_TASK_FIELDS.join(', ')})`,
  };
}

/** The problems of a template's declared `requiredFields` / `optionalFields`, named `<list>[i]`. */
export function checkDeclaredFields(
  tasks: readonly OverridableTask[],
  lists: { requiredFields: readonly string[]; optionalFields: readonly string[] },
): OverrideIssue[] {
  const names = tasks.map((task) => task.name);
  return (['requiredFields', 'optionalFields'] as const).flatMap((list) =>
    lists[list].flatMap((path, index) => {
      const parsed = parseOverridePath(path, names);
      return parsed.ok ? [] : [{ field: `${list}[${index}]`, message: `"${path}" ${parsed.message}` }];
    }),
  );
}

/**
 * Whether a parsed path names a field of the template: a task field, the payload itself, a key
 * the default payload holds, a property the payload's schema describes, or a declared field.
 */
export function namesTemplateField(
  target: OverrideTarget,
  task: OverridableTask,
  declared: ReadonlySet<string>,
  path: string,
): boolean {
  if (target.kind === 'field' || target.path.length === 0 || declared.has(path)) return true;
  return hasPath(task.payload, target.path) || schemaDescribes(task.payloadSchema, target.path);
}

/**
 * Applies `overrides` to the template's tasks. Every problem is returned at once: a required
 * field not given, a path that names no field, a payload override that is not an object.
 */
export function applyOverrides(
  tasks: readonly OverridableTask[],
  overrides: Readonly<Record<string, unknown>>,
  lists: { requiredFields: readonly string[]; optionalFields: readonly string[] },
): { ok: true; tasks: ResolvedTask[] } | { ok: false; issues: OverrideIssue[] } {
  const issues: OverrideIssue[] = [];
  for (const required of lists.requiredFields) {
    if (!isGiven(required, overrides))
      issues.push({ field: `overrides.${required}`, message: 'is required' });
  }
  const declared = new Set([...lists.requiredFields, ...lists.optionalFields]);
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const resolved = new Map<string, ResolvedTask>(
    tasks.map((task) => [task.name, { name: task.name, payload: structuredClone(task.payload), fields: {} }]),
  );
  // Parents before children, so that `a.payload: {...}` then `a.payload.x` both hold.
  const paths = Object.keys(overrides).sort((a, b) => a.split('.').length - b.split('.').length);
  for (const path of paths) {
    const value = overrides[path];
    const field = `overrides.${path}`;
    const parsed = parseOverridePath(path, [...byName.keys()]);
    if (!parsed.ok) {
      issues.push({ field, message: parsed.message });
      continue;
    }
    const { target } = parsed;
    if (!namesTemplateField(target, byName.get(target.task)!, declared, path)) {
      issues.push({
        field,
        message: `names no field of the template (not in task "${target.task}"'s payload, its schema, requiredFields or optionalFields)`,
      });
      continue;
    }
    const task = resolved.get(target.task)!;
    if (target.kind === 'field') {
      task.fields[target.field] = value;
    } else if (target.path.length === 0) {
      if (!isPlainObject(value))
        issues.push({ field, message: 'must be an object (merged into the default payload)' });
      else task.payload = deepMerge(task.payload, value);
    } else {
      task.payload = mergeAt(task.payload, target.path, value);
    }
  }
  return issues.length > 0
    ? { ok: false, issues }
    : { ok: true, tasks: tasks.map((t) => resolved.get(t.name)!) };
}

/** `override` merged into `base`: objects key by key, anything else (arrays too) replaced. Inputs untouched. */
export function deepMerge(
  base: Readonly<Record<string, unknown>>,
  override: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    // defineProperty: a JSON key "__proto__" is an own property, never the prototype's setter.
    Object.defineProperty(merged, key, {
      value: isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return merged;
}

function mergeAt(
  payload: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [key, ...rest] = path as [string, ...string[]];
  const current = payload[key];
  if (rest.length === 0) {
    const next = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
    return { ...payload, [key]: next };
  }
  return { ...payload, [key]: mergeAt(isPlainObject(current) ? current : {}, rest, value) };
}

/** A required path is given by an override of itself, of a field under it, or of a parent whose value holds it. */
function isGiven(required: string, overrides: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(overrides).some(([path, value]) => {
    if (path === required || path.startsWith(`${required}.`)) return true;
    if (!required.startsWith(`${path}.`)) return false;
    return hasPath(value, required.slice(path.length + 1).split('.'));
  });
}

function hasPath(value: unknown, path: readonly string[]): boolean {
  let node = value;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

/** Follows `properties` (and `patternProperties`/`additionalProperties` as "any key") down the schema. */
function schemaDescribes(schema: unknown, path: readonly string[]): boolean {
  let node = schema;
  for (const key of path) {
    if (!isPlainObject(node)) return false;
    const properties = node['properties'];
    if (isPlainObject(properties) && Object.hasOwn(properties, key)) node = properties[key];
    else if (isPlainObject(node['additionalProperties'])) node = node['additionalProperties'];
    else return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
