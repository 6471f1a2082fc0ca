import type { EntityManager } from 'typeorm';
import type { BatchFailurePolicy, BatchStatus } from '@meridian/contracts/api/batch';
import type { TaskStatus } from '@meridian/contracts/api/task';

export interface BatchRow {
  id: string;
  org_id: string;
  name: string | null;
  failure_policy: BatchFailurePolicy;
  status: BatchStatus;
  created_by: string;
  correlation_id: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface BatchTaskRow {
  id: string;
  type: string;
  status: TaskStatus;
  batch_step_name: string;
  batch_role: 'step' | 'compensation';
  compensates_task_id: string | null;
  batch_position: number;
  cancelled_by: string | null;
  created_at: Date;
  batch_released_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
}

export interface BatchTasks {
  tasks: BatchTaskRow[];
  dependencies: { task_id: string; depends_on_task_id: string }[];
  /** Status of the tasks outside the batch its steps depend on. */
  external: Map<string, TaskStatus>;
}

const BATCH_COLUMNS = `id, org_id, name, failure_policy, status, created_by, correlation_id, created_at, updated_at, finished_at`;

/** The batch of the organisation (any, with `orgId` null), locked for the caller's transaction when `lock`. */
export async function findBatch(
  manager: EntityManager,
  batchId: string,
  orgId: string | null,
  lock: boolean,
): Promise<BatchRow | null> {
  const rows: BatchRow[] = await manager.query(
    `SELECT ${BATCH_COLUMNS} FROM batches WHERE id = $1 AND ($2::text IS NULL OR org_id = $2)
     ${lock ? 'FOR UPDATE' : ''}`,
    [batchId, orgId],
  );
  return rows[0] ?? null;
}

export async function listBatchRows(
  manager: EntityManager,
  orgId: string,
  filter: { status?: BatchStatus; offset: number; limit: number },
): Promise<{ rows: BatchRow[]; total: number }> {
  const status = filter.status ?? null;
  const rows: BatchRow[] = await manager.query(
    `SELECT ${BATCH_COLUMNS} FROM batches WHERE org_id = $1 AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, id DESC OFFSET $3 LIMIT $4`,
    [orgId, status, filter.offset, filter.limit],
  );
  const [count] = await manager.query<{ total: number }[]>(
    `SELECT count(*)::int AS total FROM batches WHERE org_id = $1 AND ($2::text IS NULL OR status = $2)`,
    [orgId, status],
  );
  return { rows, total: count?.total ?? 0 };
}

/** Every task of the batch in request order, the dependencies among them and on tasks outside it. */
export async function loadBatchTasks(manager: EntityManager, batchId: string): Promise<BatchTasks> {
  const tasks: BatchTaskRow[] = await manager.query(
    `SELECT id, type, status, batch_step_name, batch_role, compensates_task_id, batch_position, cancelled_by,
            created_at, batch_released_at, started_at, completed_at
       FROM tasks WHERE batch_id = $1 ORDER BY batch_position`,
    [batchId],
  );
  const dependencies: BatchTasks['dependencies'] = await manager.query(
    `SELECT task_id, depends_on_task_id FROM task_dependencies WHERE batch_id = $1 ORDER BY task_id, depends_on_task_id`,
    [batchId],
  );
  const own = new Set(tasks.map((task) => task.id));
  const outside = [...new Set(dependencies.map((d) => d.depends_on_task_id).filter((id) => !own.has(id)))];
  const external = new Map<string, TaskStatus>();
  if (outside.length > 0) {
    const rows: { id: string; status: TaskStatus }[] = await manager.query(
      `SELECT id, status FROM tasks WHERE id = ANY($1::uuid[])`,
      [outside],
    );
    rows.forEach((row) => external.set(row.id, row.status));
  }
  return { tasks, dependencies, external };
}
