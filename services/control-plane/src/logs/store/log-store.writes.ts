import type { EntityManager } from 'typeorm';
import type { SqlPart } from '../../persistence/write-batch.js';
import type { LogSummary, PlacedLine } from './log-window.js';

/** Who sent a chunk about which execution: it is stored only if all three match the execution. */
export interface ChunkOrigin {
  executionId: string;
  taskId: string;
  nodeId: string;
}

export interface LockedLog {
  executionId: string;
  taskId: string;
  nodeId: string;
  orgId: string;
  summary: LogSummary;
}

interface SummaryRow {
  execution_id: string;
  task_id: string;
  node_id: string;
  org_id: string;
  head_bytes: number;
  head_last_seq: number;
  head_closed: boolean;
  tail_total_bytes: string;
  truncated_bytes: string;
  truncated_through_seq: number;
  agent_dropped_bytes: string;
  last_seq: number;
}

/**
 * Creates the log summaries that do not exist yet and locks all of them, for the executions that
 * the given origins match (right task, sent by the execution's node); the others are not returned.
 * Rows are taken in (task, execution) order, the order in which the report consumer locks
 * executions: inserting a summary takes a key-share lock on its execution, and one order for both
 * consumers means two replicas cannot deadlock.
 */
export async function lockLogSummaries(
  manager: EntityManager,
  origins: readonly ChunkOrigin[],
  now: Date,
): Promise<Map<string, LockedLog>> {
  if (origins.length === 0) return new Map();
  const rows: SummaryRow[] = await manager.query(
    `WITH locked AS (
       INSERT INTO execution_logs (execution_id, org_id, updated_at)
       SELECT m.id, m.org_id, $4::timestamptz FROM (
         SELECT DISTINCT e.task_id, e.id, e.org_id FROM executions e
           JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS c(execution_id, task_id, node_id)
             ON e.id = c.execution_id AND e.task_id = c.task_id AND e.node_id = c.node_id) m
        ORDER BY m.task_id, m.id
       ON CONFLICT (execution_id) DO UPDATE SET updated_at = execution_logs.updated_at
       RETURNING *)
     SELECT l.*, e.task_id, e.node_id FROM locked l JOIN executions e ON e.id = l.execution_id`,
    [origins.map((o) => o.executionId), origins.map((o) => o.taskId), origins.map((o) => o.nodeId), now],
  );
  return new Map(
    rows.map((row) => [
      row.execution_id,
      {
        executionId: row.execution_id,
        taskId: row.task_id,
        nodeId: row.node_id,
        orgId: row.org_id,
        summary: {
          headBytes: row.head_bytes,
          headLastSeq: row.head_last_seq,
          headClosed: row.head_closed,
          tailTotalBytes: Number(row.tail_total_bytes),
          truncatedBytes: Number(row.truncated_bytes),
          truncatedThroughSeq: row.truncated_through_seq,
          agentDroppedBytes: Number(row.agent_dropped_bytes),
          lastSeq: row.last_seq,
        },
      },
    ]),
  );
}

export function originKey(origin: ChunkOrigin): string {
  return `${origin.executionId}/${origin.taskId}/${origin.nodeId}`;
}

/** Why chunks were refused, by `originKey` (only asked for the ones `lockLogSummaries` did not match). */
export async function refusalReasons(
  manager: EntityManager,
  origins: readonly ChunkOrigin[],
): Promise<Map<string, string>> {
  const rows: {
    execution_id: string;
    task_id: string;
    node_id: string;
    known: boolean;
    same_task: boolean | null;
    same_org: boolean | null;
  }[] = await manager.query(
    `SELECT c.execution_id, c.task_id, c.node_id, e.id IS NOT NULL AS known, e.task_id = c.task_id AS same_task,
            e.org_id = n.org_id AS same_org
       FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS c(execution_id, task_id, node_id)
       LEFT JOIN executions e ON e.id = c.execution_id
       LEFT JOIN nodes n ON n.id = c.node_id`,
    [origins.map((o) => o.executionId), origins.map((o) => o.taskId), origins.map((o) => o.nodeId)],
  );
  return new Map(
    rows.map((row) => [
      originKey({ executionId: row.execution_id, taskId: row.task_id, nodeId: row.node_id }),
      !row.known
        ? 'unknown execution'
        : row.same_org === false
          ? "another organisation's execution"
          : row.same_task === false
            ? 'execution of another task'
            : "not sent by the execution's node",
    ]),
  );
}

/** Which of the given (execution, seq) pairs are stored, by execution. */
export async function findStoredSeqs(
  manager: EntityManager,
  lookups: readonly { executionId: string; seqs: readonly number[] }[],
): Promise<Map<string, Set<number>>> {
  const pairs = lookups.flatMap((l) => l.seqs.map((seq) => [l.executionId, seq] as const));
  const found = new Map<string, Set<number>>();
  if (pairs.length === 0) return found;
  const rows: { execution_id: string; seq: number }[] = await manager.query(
    `SELECT l.execution_id, l.seq FROM execution_log_lines l
       JOIN unnest($1::uuid[], $2::int[]) AS p(execution_id, seq)
         ON l.execution_id = p.execution_id AND l.seq = p.seq`,
    [pairs.map(([id]) => id), pairs.map(([, seq]) => seq)],
  );
  for (const row of rows) {
    const seqs = found.get(row.execution_id) ?? new Set<number>();
    seqs.add(row.seq);
    found.set(row.execution_id, seqs);
  }
  return found;
}

/** The INSERT of new lines; a line already there is left alone (the plan leaves those out anyway). */
export function logLinesPart(lines: readonly (PlacedLine & { executionId: string })[]): SqlPart | null {
  if (lines.length === 0) return null;
  return {
    sql: `INSERT INTO execution_log_lines
            (execution_id, seq, stream, ts, text, bytes, in_head, tail_offset_end, dropped_before_bytes)
          SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::int[],
                               $7::bool[], $8::bigint[], $9::int[])
          ON CONFLICT (execution_id, seq) DO NOTHING`,
    params: [
      lines.map((l) => l.executionId),
      lines.map((l) => l.seq),
      lines.map((l) => l.stream),
      lines.map((l) => l.ts),
      lines.map((l) => l.text),
      lines.map((l) => l.bytes),
      lines.map((l) => l.inHead),
      lines.map((l) => l.tailOffsetEnd),
      lines.map((l) => l.droppedBeforeBytes),
    ],
  };
}

/** Writes the summaries the plans computed (the rows are locked: the values are absolute). */
export function logSummariesPart(
  updates: readonly { executionId: string; summary: LogSummary }[],
  now: Date,
): SqlPart | null {
  if (updates.length === 0) return null;
  const column = <K extends keyof LogSummary>(key: K) => updates.map((u) => u.summary[key]);
  return {
    sql: `UPDATE execution_logs s SET
            head_bytes = u.head_bytes, head_last_seq = u.head_last_seq, head_closed = u.head_closed,
            tail_total_bytes = u.tail_total_bytes, truncated_bytes = u.truncated_bytes,
            truncated_through_seq = u.truncated_through_seq, agent_dropped_bytes = u.agent_dropped_bytes,
            last_seq = u.last_seq, updated_at = $10
          FROM unnest($1::uuid[], $2::int[], $3::int[], $4::bool[], $5::bigint[], $6::bigint[], $7::int[],
                      $8::bigint[], $9::int[])
            AS u(execution_id, head_bytes, head_last_seq, head_closed, tail_total_bytes, truncated_bytes,
                 truncated_through_seq, agent_dropped_bytes, last_seq)
         WHERE s.execution_id = u.execution_id`,
    params: [
      updates.map((u) => u.executionId),
      column('headBytes'),
      column('headLastSeq'),
      column('headClosed'),
      column('tailTotalBytes'),
      column('truncatedBytes'),
      column('truncatedThroughSeq'),
      column('agentDroppedBytes'),
      column('lastSeq'),
      now,
    ],
  };
}

/**
 * Drops the oldest tail lines (by seq) of each execution until its tail fits `tailBytes`, and those
 * at or below the highest seq the tail has dropped (the window is a run of the newest lines), and
 * adds what it dropped to the summary. Run after the batch's writes: it sees them.
 */
export async function trimTails(
  manager: EntityManager,
  executionIds: readonly string[],
  tailBytes: number,
): Promise<void> {
  if (executionIds.length === 0) return;
  await manager.query(
    `WITH ranked AS (
       SELECT execution_id, seq,
              sum(bytes) OVER (PARTITION BY execution_id ORDER BY seq DESC) AS bytes_from_newest
         FROM execution_log_lines
        WHERE execution_id = ANY($1::uuid[]) AND NOT in_head),
     dropped AS (
       DELETE FROM execution_log_lines l USING ranked r, execution_logs s
        WHERE l.execution_id = r.execution_id AND l.seq = r.seq AND s.execution_id = r.execution_id
          AND (r.bytes_from_newest > $2 OR r.seq <= s.truncated_through_seq)
        RETURNING l.execution_id, l.seq, l.bytes),
     totals AS (
       SELECT execution_id, sum(bytes) AS bytes, max(seq) AS max_seq FROM dropped GROUP BY execution_id)
     UPDATE execution_logs s
        SET truncated_bytes = s.truncated_bytes + t.bytes,
            truncated_through_seq = greatest(s.truncated_through_seq, t.max_seq)
       FROM totals t WHERE s.execution_id = t.execution_id`,
    [executionIds, tailBytes],
  );
}
