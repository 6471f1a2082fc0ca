import type { TaskRunEntity } from './entities/task-run.entity.js';
import type { SqlPart } from './write-batch.js';

/** The INSERT of one run, to send with the task change that starts or queues it. */
export function taskRunPart(run: TaskRunEntity): SqlPart {
  return {
    sql: `INSERT INTO task_runs (id, org_id, task_id, run_number, trigger_type, trigger_reason, trigger_context, actor,
                           correlation_id, idempotency_key, first_execution_id, state, run_after, created_at,
                           started_at, ended_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    params: [
      run.id,
      run.orgId,
      run.taskId,
      run.runNumber,
      run.triggerType,
      run.triggerReason,
      JSON.stringify(run.triggerContext),
      run.actor,
      run.correlationId,
      run.idempotencyKey,
      run.firstExecutionId,
      run.state,
      run.runAfter,
      run.createdAt,
      run.startedAt,
      run.endedAt,
    ],
  };
}

/** Closes the task's previous run when a new one becomes current. */
export function endRunPart(runId: string | null, now: Date): SqlPart | null {
  if (!runId) return null;
  return {
    sql: `UPDATE task_runs SET state = 'ended', ended_at = $2 WHERE id = $1 AND state = 'current'`,
    params: [runId, now],
  };
}
