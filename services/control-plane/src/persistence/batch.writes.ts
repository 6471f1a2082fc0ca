import type { EntityManager } from 'typeorm';
import type { BatchFailurePolicy, BatchStatus } from '@meridian/contracts/api/batch';
import { WriteBatch, type SqlPart } from './write-batch.js';

/** NOTIFYed by the `tasks` trigger (migration 0013) when a task that concerns a batch ends. */
export const BATCH_WAKEUP_CHANNEL = 'meridian_batch_wakeups';

export interface NewBatch {
  id: string;
  orgId: string;
  name: string | null;
  failurePolicy: BatchFailurePolicy;
  createdBy: string;
  correlationId: string;
  createdAt: Date;
}

export interface BatchMembership {
  taskId: string;
  stepName: string;
  role: 'step' | 'compensation';
  compensatesTaskId: string | null;
  position: number;
  /** Set for the tasks Pending from the start. */
  releasedAt: Date | null;
}

export interface NewBatchEvent {
  orgId: string;
  batchId: string;
  taskId?: string | null;
  type: string;
  data: Record<string, unknown>;
  occurredAt: Date;
}

export async function insertBatch(manager: EntityManager, batch: NewBatch): Promise<void> {
  await manager.query(
    `INSERT INTO batches (id, org_id, name, failure_policy, status, created_by, correlation_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'Running', $5, $6, $7, $7)`,
    [
      batch.id,
      batch.orgId,
      batch.name,
      batch.failurePolicy,
      batch.createdBy,
      batch.correlationId,
      batch.createdAt,
    ],
  );
}

/**
 * Marks the batch's tasks (inserted by the task writer) as its members and stores the
 * dependencies, after every task exists: a compensation refers to its step.
 */
export async function attachBatchTasks(
  manager: EntityManager,
  batch: { id: string; orgId: string },
  members: readonly BatchMembership[],
  dependencies: readonly { taskId: string; dependsOnTaskId: string }[],
): Promise<void> {
  await new WriteBatch()
    .add({
      sql: `UPDATE tasks t SET batch_id = $1, batch_step_name = m.name, batch_role = m.role,
                   compensates_task_id = m.compensates, batch_position = m.position, batch_released_at = m.released_at
              FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::int[], $7::timestamptz[])
                   AS m(id, name, role, compensates, position, released_at)
             WHERE t.id = m.id`,
      params: [
        batch.id,
        members.map((m) => m.taskId),
        members.map((m) => m.stepName),
        members.map((m) => m.role),
        members.map((m) => m.compensatesTaskId),
        members.map((m) => m.position),
        members.map((m) => m.releasedAt?.toISOString() ?? null),
      ],
    })
    .add(
      dependencies.length === 0
        ? null
        : {
            sql: `INSERT INTO task_dependencies (org_id, task_id, depends_on_task_id, kind, batch_id)
                  SELECT $1, d.task_id, d.depends_on, 'success', $2
                    FROM unnest($3::uuid[], $4::uuid[]) AS d(task_id, depends_on)`,
            params: [
              batch.orgId,
              batch.id,
              dependencies.map((d) => d.taskId),
              dependencies.map((d) => d.dependsOnTaskId),
            ],
          },
    )
    .run(manager);
}

export function batchEventsPart(events: readonly NewBatchEvent[]): SqlPart | null {
  if (events.length === 0) return null;
  return {
    sql: `INSERT INTO batch_events (org_id, batch_id, task_id, type, data, occurred_at)
          SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])`,
    params: [
      events.map((e) => e.orgId),
      events.map((e) => e.batchId),
      events.map((e) => e.taskId ?? null),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => e.occurredAt.toISOString()),
    ],
  };
}

export async function appendBatchEvents(
  manager: EntityManager,
  events: readonly NewBatchEvent[],
): Promise<void> {
  await new WriteBatch().add(batchEventsPart(events)).run(manager);
}

/** Asks the workers to look at a batch (after creation: dependencies on tasks that already ended). */
export async function requestBatchWakeup(manager: EntityManager, batchId: string): Promise<void> {
  await new WriteBatch()
    .add({ sql: `INSERT INTO batch_wakeups (batch_id) VALUES ($1)`, params: [batchId] })
    .notify(BATCH_WAKEUP_CHANNEL)
    .run(manager);
}

export async function setBatchStatus(
  manager: EntityManager,
  batchId: string,
  status: BatchStatus,
  finished: boolean,
  now: Date,
): Promise<void> {
  await manager.query(
    `UPDATE batches SET status = $2, updated_at = $3, finished_at = CASE WHEN $4 THEN $3 ELSE finished_at END
      WHERE id = $1`,
    [batchId, status, now, finished],
  );
}
