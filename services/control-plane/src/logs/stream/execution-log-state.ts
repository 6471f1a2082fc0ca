import type { DataSource } from 'typeorm';
import type { ExecutionStatus } from '@meridian/contracts/api/execution';

/** What a log stream polls about its execution: how it ended, and how far the store has lines. */
export interface ExecutionLogState {
  status: ExecutionStatus;
  exitCode: number | null;
  /** Seq of the execution's last line, from its end report; null while running or when unknown. */
  lastLogSeq: number | null;
  /** Highest seq the store has recorded (0 when none). */
  storedLastSeq: number;
}

interface StateRow {
  status: ExecutionStatus;
  exit_code: number | null;
  last_log_seq: number | null;
  stored_last_seq: number | null;
}

/** One primary-key lookup, scoped by organisation; undefined for an unknown or another org's execution. */
export async function readExecutionLogState(
  dataSource: DataSource,
  orgId: string,
  executionId: string,
): Promise<ExecutionLogState | undefined> {
  const rows: StateRow[] = await dataSource.query(
    `SELECT e.status, e.exit_code, e.last_log_seq, l.last_seq AS stored_last_seq
       FROM executions e LEFT JOIN execution_logs l ON l.execution_id = e.id
      WHERE e.id = $1 AND e.org_id = $2`,
    [executionId, orgId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    status: row.status,
    exitCode: row.exit_code,
    lastLogSeq: row.last_log_seq,
    storedLastSeq: Math.max(0, Number(row.stored_last_seq ?? 0)),
  };
}
