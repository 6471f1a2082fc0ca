import type { SqlPart } from './write-batch.js';

/** Changes to one execution from the reports of a batch; a column left undefined keeps its value. */
export interface ExecutionUpdate {
  id: string;
  status: string;
  lastSequence: number;
  releasedAt?: Date;
  acceptedAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
  exitCode?: number | null;
  durationMs?: number | null;
  result?: unknown;
  output?: string;
  errorOutput?: string;
  outputTruncatedBytes?: number;
  errorMessage?: string | null;
  progressPercent?: number;
  progressMessage?: string | null;
  lastLogSeq?: number;
}

export interface TaskUpdate {
  id: string;
  status?: string;
  updatedAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
  retryCount?: number;
  runAfter?: Date | null;
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/**
 * Applies the execution changes of a whole batch in one statement. Every column the reports set
 * only ever goes from empty to a value, so "keep the old value" is `coalesce(new, old)`.
 */
export function executionUpdatesPart(updates: readonly ExecutionUpdate[]): SqlPart | null {
  if (updates.length === 0) return null;
  return {
    sql: `UPDATE executions e SET
       status = u.status, last_sequence = u.last_sequence,
       released_at = coalesce(u.released_at, e.released_at),
       accepted_at = coalesce(u.accepted_at, e.accepted_at),
       started_at = coalesce(u.started_at, e.started_at),
       completed_at = coalesce(u.completed_at, e.completed_at),
       exit_code = coalesce(u.exit_code, e.exit_code),
       duration_ms = coalesce(u.duration_ms, e.duration_ms),
       result = coalesce(u.result, e.result),
       output = coalesce(u.output, e.output),
       error_output = coalesce(u.error_output, e.error_output),
       output_truncated_bytes = coalesce(u.output_truncated_bytes, e.output_truncated_bytes),
       error_message = coalesce(u.error_message, e.error_message),
       progress_percent = coalesce(u.progress_percent, e.progress_percent),
       progress_message = coalesce(u.progress_message, e.progress_message),
       last_log_seq = coalesce(u.last_log_seq, e.last_log_seq)
     FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
                 $7::timestamptz[], $8::int[], $9::int[], $10::jsonb[], $11::text[], $12::text[], $13::int[],
                 $14::text[], $15::real[], $16::text[], $17::int[])
       AS u(id, status, last_sequence, released_at, accepted_at, started_at, completed_at, exit_code, duration_ms,
            result, output, error_output, output_truncated_bytes, error_message, progress_percent, progress_message,
            last_log_seq)
     WHERE e.id = u.id`,
    params: [
      updates.map((u) => u.id),
      updates.map((u) => u.status),
      updates.map((u) => u.lastSequence),
      updates.map((u) => orNull(u.releasedAt)),
      updates.map((u) => orNull(u.acceptedAt)),
      updates.map((u) => orNull(u.startedAt)),
      updates.map((u) => orNull(u.completedAt)),
      updates.map((u) => orNull(u.exitCode)),
      updates.map((u) => orNull(u.durationMs)),
      updates.map((u) => (u.result === undefined || u.result === null ? null : JSON.stringify(u.result))),
      updates.map((u) => orNull(u.output)),
      updates.map((u) => orNull(u.errorOutput)),
      updates.map((u) => orNull(u.outputTruncatedBytes)),
      updates.map((u) => orNull(u.errorMessage)),
      updates.map((u) => orNull(u.progressPercent)),
      updates.map((u) => orNull(u.progressMessage)),
      updates.map((u) => orNull(u.lastLogSeq)),
    ],
  };
}

/** Applies the task changes of a whole batch in one statement (one row per task). */
export function taskUpdatesPart(updates: readonly TaskUpdate[]): SqlPart | null {
  if (updates.length === 0) return null;
  return {
    sql: `UPDATE tasks t SET
       status = coalesce(u.status, t.status),
       updated_at = coalesce(u.updated_at, t.updated_at),
       started_at = coalesce(u.started_at, t.started_at),
       completed_at = coalesce(u.completed_at, t.completed_at),
       retry_count = coalesce(u.retry_count, t.retry_count),
       run_after = coalesce(u.run_after, t.run_after)
     FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::int[],
                 $7::timestamptz[]) AS u(id, status, updated_at, started_at, completed_at, retry_count, run_after)
     WHERE t.id = u.id`,
    params: [
      updates.map((u) => u.id),
      updates.map((u) => orNull(u.status)),
      updates.map((u) => orNull(u.updatedAt)),
      updates.map((u) => orNull(u.startedAt)),
      updates.map((u) => orNull(u.completedAt)),
      updates.map((u) => orNull(u.retryCount)),
      updates.map((u) => orNull(u.runAfter)),
    ],
  };
}
