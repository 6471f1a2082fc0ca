import type { MigrationInterface, QueryRunner } from 'typeorm';

// TypeORM orders migrations by the 13-digit suffix of the class name.
export class CreateExecutionLogs1795400000002 implements MigrationInterface {
  name = 'CreateExecutionLogs1795400000002';

  async up(q: QueryRunner): Promise<void> {
    // Per execution: how much is kept and what was dropped. The head (first half of the budget) is
    // kept for good; the tail is a window over the rest, its oldest lines deleted as new ones come.
    await q.query(`
      CREATE TABLE execution_logs (
        execution_id uuid PRIMARY KEY REFERENCES executions (id),
        org_id text NOT NULL,
        head_bytes integer NOT NULL DEFAULT 0,
        head_last_seq integer NOT NULL DEFAULT -1,
        head_closed boolean NOT NULL DEFAULT false,
        tail_total_bytes bigint NOT NULL DEFAULT 0,
        truncated_bytes bigint NOT NULL DEFAULT 0,
        agent_dropped_bytes bigint NOT NULL DEFAULT 0,
        last_seq integer NOT NULL DEFAULT -1,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE execution_log_lines (
        execution_id uuid NOT NULL REFERENCES execution_logs (execution_id),
        seq integer NOT NULL,
        stream text NOT NULL CHECK (stream IN ('stdout','stderr')),
        ts timestamptz NOT NULL,
        text text NOT NULL,
        bytes integer NOT NULL,
        in_head boolean NOT NULL,
        -- for tail lines: bytes of all tail lines up to and including this one
        tail_offset_end bigint,
        -- bytes the agent dropped just before this line
        dropped_before_bytes integer NOT NULL DEFAULT 0,
        PRIMARY KEY (execution_id, seq)
      )`);
    await q.query(`ALTER TABLE executions ADD COLUMN last_log_seq integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE executions DROP COLUMN last_log_seq`);
    await q.query(`DROP TABLE execution_log_lines`);
    await q.query(`DROP TABLE execution_logs`);
  }
}
