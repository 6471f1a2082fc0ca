import type { DataSource, EntityManager } from 'typeorm';
import type { TaskRunEntity } from './entities/task-run.entity.js';
import type { TaskEntity } from './entities/task.entity.js';
import { DISPATCH_CHANNEL } from './outbox.writes.js';
import { taskEventsPart, type NewTaskEvent } from './task-event.writes.js';
import { taskRunPart } from './task-run.writes.js';
import { WriteBatch } from './write-batch.js';

const TASK_COLUMNS: [column: string, key: keyof TaskEntity, cast: string][] = [
  ['id', 'id', 'uuid'],
  ['org_id', 'orgId', 'text'],
  ['type', 'type', 'text'],
  ['name', 'name', 'text'],
  ['description', 'description', 'text'],
  ['priority', 'priority', 'smallint'],
  ['status', 'status', 'text'],
  ['target_type', 'targetType', 'text'],
  ['target_id', 'targetId', 'text'],
  ['node_id', 'nodeId', 'text'],
  ['payload', 'payload', 'jsonb'],
  ['metadata', 'metadata', 'jsonb'],
  ['timeout_seconds', 'timeoutSeconds', 'integer'],
  ['max_retries', 'maxRetries', 'integer'],
  ['retry_count', 'retryCount', 'integer'],
  ['attempt_count', 'attemptCount', 'integer'],
  ['retry_policy', 'retryPolicy', 'jsonb'],
  ['scheduled_at', 'scheduledAt', 'timestamptz'],
  ['run_after', 'runAfter', 'timestamptz'],
  ['created_by', 'createdBy', 'text'],
  ['correlation_id', 'correlationId', 'text'],
  ['created_at', 'createdAt', 'timestamptz'],
  ['updated_at', 'updatedAt', 'timestamptz'],
  ['current_run_id', 'currentRunId', 'uuid'],
  ['run_count', 'runCount', 'integer'],
  ['trigger_type', 'triggerType', 'text'],
  ['next_execution_id', 'nextExecutionId', 'uuid'],
];

/**
 * Inserts a new task, its first run, its first audit events and the wake-up of the dispatchers as one statement:
 * atomic without an explicit transaction, and one round trip on the hot path of `POST /tasks`.
 * Given a transaction's manager, it is part of that transaction.
 */
export async function insertTaskWithEvents(
  dataSource: DataSource | EntityManager,
  task: TaskEntity,
  run: TaskRunEntity,
  events: readonly NewTaskEvent[],
): Promise<void> {
  const values = TASK_COLUMNS.map(([, key]) => {
    const value = task[key];
    if (key === 'retryPolicy') return value === null ? null : JSON.stringify(value);
    return key === 'payload' || key === 'metadata' ? JSON.stringify(value) : value;
  });
  const placeholders = TASK_COLUMNS.map(([, , cast], index) => `$${index + 1}::${cast}`).join(', ');
  await new WriteBatch()
    .add({
      sql: `INSERT INTO tasks (${TASK_COLUMNS.map(([column]) => column).join(', ')}) VALUES (${placeholders})`,
      params: values,
    })
    .add(taskRunPart(run))
    .add(taskEventsPart(events))
    .notify(DISPATCH_CHANNEL)
    .run(dataSource);
}
