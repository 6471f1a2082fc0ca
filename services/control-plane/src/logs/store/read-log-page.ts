import type { DataSource } from 'typeorm';
import type { ExecutionStatus } from '@meridian/contracts/api/execution';
import type { LogStreamName } from '@meridian/contracts/messages/log-chunk';
import type { TruncationHole } from './log-gaps.js';

export interface StoredLine {
  seq: number;
  stream: LogStreamName;
  ts: string;
  text: string;
  droppedBeforeBytes: number;
}

export interface StoredLogPage {
  status: ExecutionStatus;
  /** Up to `limit + 1` lines with seq > `after`, in seq order (the extra one says more are stored). */
  lines: StoredLine[];
  storedBefore: number;
  truncation: TruncationHole | null;
}

interface PageRow {
  status: ExecutionStatus;
  truncated_bytes: string | null;
  truncated_through_seq: number | null;
  stored_before: number | null;
  kept_below_truncation: number | null;
  kept_above_truncation: number | null;
  lines: { seq: number; stream: LogStreamName; ts: string; text: string; dropped_before_bytes: number }[];
}

/**
 * One statement, so one snapshot: the execution (scoped by organisation), its log summary, the
 * lines after `after`, and the stored neighbours of the holes. Undefined for an unknown execution
 * or another organisation's.
 */
export async function readStoredLogPage(
  dataSource: DataSource,
  orgId: string,
  executionId: string,
  after: number,
  limit: number,
): Promise<StoredLogPage | undefined> {
  const rows: PageRow[] = await dataSource.query(
    `SELECT e.status, s.truncated_bytes, s.truncated_through_seq,
            (SELECT max(seq) FROM execution_log_lines WHERE execution_id = e.id AND seq <= $3) AS stored_before,
            (SELECT max(seq) FROM execution_log_lines
              WHERE execution_id = e.id AND seq <= s.truncated_through_seq) AS kept_below_truncation,
            (SELECT min(seq) FROM execution_log_lines
              WHERE execution_id = e.id AND seq > s.truncated_through_seq) AS kept_above_truncation,
            (SELECT coalesce(json_agg(p ORDER BY p.seq), '[]'::json) FROM (
               SELECT seq, stream, ts, text, dropped_before_bytes FROM execution_log_lines
                WHERE execution_id = e.id AND seq > $3 ORDER BY seq LIMIT $4) p) AS lines
       FROM executions e LEFT JOIN execution_logs s ON s.execution_id = e.id
      WHERE e.id = $1 AND e.org_id = $2`,
    [executionId, orgId, after, limit + 1],
  );
  const row = rows[0];
  if (!row) return undefined;
  const truncatedBytes = Number(row.truncated_bytes ?? 0);
  const truncatedThrough = row.truncated_through_seq ?? -1;
  return {
    status: row.status,
    lines: row.lines.map((line) => ({
      seq: line.seq,
      stream: line.stream,
      ts: new Date(line.ts).toISOString(),
      text: line.text,
      droppedBeforeBytes: line.dropped_before_bytes,
    })),
    storedBefore: row.stored_before ?? 0,
    truncation:
      truncatedBytes > 0
        ? {
            afterSeq: row.kept_below_truncation ?? 0,
            beforeSeq: row.kept_above_truncation ?? truncatedThrough + 1,
            bytes: truncatedBytes,
          }
        : null,
  };
}
