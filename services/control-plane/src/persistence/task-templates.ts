import type { EntityManager } from 'typeorm';
import type { BatchFailurePolicy } from '@meridian/contracts/api/batch';
import type { ListTemplatesQuery, TemplateTask } from '@meridian/contracts/api/template';

/** A stored template; `orgId` null: global. */
export interface TemplateRow {
  id: string;
  orgId: string | null;
  name: string;
  description: string | null;
  category: string | null;
  tags: string[];
  isActive: boolean;
  requiredFields: string[];
  optionalFields: string[];
  failurePolicy: BatchFailurePolicy;
  tasks: TemplateTask[];
  createdBy: string;
  correlationId: string;
  createdAt: Date;
  updatedAt: Date;
}

interface StoredRow {
  id: string;
  org_id: string | null;
  name: string;
  description: string | null;
  category: string | null;
  tags: string[];
  is_active: boolean;
  required_fields: string[];
  optional_fields: string[];
  failure_policy: BatchFailurePolicy;
  tasks: TemplateTask[];
  created_by: string;
  correlation_id: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, org_id, name, description, category, tags, is_active, required_fields, optional_fields,
  failure_policy, tasks, created_by, correlation_id, created_at, updated_at`;

/** The organisation's own templates and the global ones. */
const VISIBLE = `(org_id = $1 OR org_id IS NULL)`;

export async function insertTemplate(manager: EntityManager, row: TemplateRow): Promise<void> {
  await manager.query(
    `INSERT INTO task_templates (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    values(row),
  );
}

/** Writes every field of an existing template but its id, owner and creation. */
export async function updateTemplate(manager: EntityManager, row: TemplateRow): Promise<void> {
  await manager.query(
    `UPDATE task_templates SET name = $3, description = $4, category = $5, tags = $6, is_active = $7,
       required_fields = $8, optional_fields = $9, failure_policy = $10, tasks = $11, updated_at = $12
     WHERE id = $1 AND org_id IS NOT DISTINCT FROM $2`,
    [...values(row).slice(0, 11), row.updatedAt],
  );
}

export async function deleteTemplate(manager: EntityManager, id: string): Promise<void> {
  await manager.query(`DELETE FROM task_templates WHERE id = $1`, [id]);
}

/** A template the organisation sees (its own or a global one), locked for a change when `lock`. */
export async function findVisibleTemplate(
  manager: EntityManager,
  orgId: string,
  id: string,
  lock = false,
): Promise<TemplateRow | null> {
  const rows: StoredRow[] = await manager.query(
    `SELECT ${COLUMNS} FROM task_templates WHERE ${VISIBLE} AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [orgId, id],
  );
  return rows[0] ? fromStored(rows[0]) : null;
}

/** One page of the templates the organisation sees, newest first, and how many match. */
export async function listVisibleTemplates(
  manager: EntityManager,
  orgId: string,
  query: ListTemplatesQuery,
): Promise<{ rows: TemplateRow[]; total: number }> {
  const conditions = [VISIBLE];
  const parameters: unknown[] = [orgId];
  const add = (condition: (n: number) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(condition(parameters.length));
  };
  if (query.category !== undefined) add((n) => `category = $${n}`, query.category);
  if (query.tag !== undefined) add((n) => `tags @> ARRAY[$${n}::text]`, query.tag);
  if (query.isActive !== undefined) add((n) => `is_active = $${n}`, query.isActive);
  const where = conditions.join(' AND ');
  const counted: { total: string }[] = await manager.query(
    `SELECT count(*) AS total FROM task_templates WHERE ${where}`,
    parameters,
  );
  const rows: StoredRow[] = await manager.query(
    `SELECT ${COLUMNS} FROM task_templates WHERE ${where}
     ORDER BY created_at DESC, id DESC LIMIT $${parameters.length + 1} OFFSET $${parameters.length + 2}`,
    [...parameters, query.limit, (query.page - 1) * query.limit],
  );
  return { rows: rows.map(fromStored), total: Number(counted[0]?.total ?? 0) };
}

function values(row: TemplateRow): unknown[] {
  return [
    row.id,
    row.orgId,
    row.name,
    row.description,
    row.category,
    row.tags,
    row.isActive,
    row.requiredFields,
    row.optionalFields,
    row.failurePolicy,
    JSON.stringify(row.tasks),
    row.createdBy,
    row.correlationId,
    row.createdAt,
    row.updatedAt,
  ];
}

function fromStored(row: StoredRow): TemplateRow {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    category: row.category,
    tags: row.tags,
    isActive: row.is_active,
    requiredFields: row.required_fields,
    optionalFields: row.optional_fields,
    failurePolicy: row.failure_policy,
    tasks: row.tasks,
    createdBy: row.created_by,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
