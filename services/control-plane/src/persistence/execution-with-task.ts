import type { EntityManager } from 'typeorm';
import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { TaskRetryPolicy, TaskStatus } from '@meridian/contracts/api/task';

/** The columns a report or a sweep needs to decide, read with both rows locked. */
export interface LockedExecution {
  id: string;
  taskId: string;
  orgId: string;
  nodeId: string;
  status: ExecutionStatus;
  lastSequence: number;
  acceptedAt: Date | null;
  startedAt: Date | null;
  correlationId: string;
  taskStatus: TaskStatus;
  retryCount: number;
  maxRetries: number;
  retryPolicy: TaskRetryPolicy | null;
  taskStartedAt: Date | null;
  currentExecutionId: string | null;
}

/**
 * Locks executions and their tasks (in id order, so that two replicas never deadlock on them)
 * and returns what the decisions need.
 */
export async function lockExecutionsWithTasks(
  manager: EntityManager,
  executionIds: readonly string[],
): Promise<Map<string, LockedExecution>> {
  if (executionIds.length === 0) return new Map();
  const rows: Record<string, unknown>[] = await manager.query(
    `SELECT e.id, e.task_id, e.org_id, e.node_id, e.status, e.last_sequence, e.correlation_id,
            e.accepted_at, e.started_at,
            t.status AS task_status, t.retry_count, t.max_retries, t.retry_policy, t.started_at AS task_started_at,
            t.current_execution_id
       FROM executions e JOIN tasks t ON t.id = e.task_id
      WHERE e.id = ANY($1::uuid[])
      ORDER BY t.id, e.id
      FOR UPDATE OF e, t`,
    [executionIds],
  );
  return new Map(
    rows.map((row) => [
      row['id'] as string,
      {
        id: row['id'] as string,
        taskId: row['task_id'] as string,
        orgId: row['org_id'] as string,
        nodeId: row['node_id'] as string,
        status: row['status'] as ExecutionStatus,
        lastSequence: row['last_sequence'] as number,
        acceptedAt: row['accepted_at'] as Date | null,
        startedAt: row['started_at'] as Date | null,
        correlationId: row['correlation_id'] as string,
        taskStatus: row['task_status'] as TaskStatus,
        retryCount: row['retry_count'] as number,
        maxRetries: row['max_retries'] as number,
        retryPolicy: row['retry_policy'] as TaskRetryPolicy | null,
        taskStartedAt: row['task_started_at'] as Date | null,
        currentExecutionId: row['current_execution_id'] as string | null,
      },
    ]),
  );
}
