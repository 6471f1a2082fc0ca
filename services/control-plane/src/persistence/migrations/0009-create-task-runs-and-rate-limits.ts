import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A task runs more than once: each run is started by a trigger and holds one or more attempts
 * (executions). Also the state behind reschedules (cron), pause/resume, shared rate limits and a
 * commit-ordered position for the org-wide event feed.
 */
export class CreateTaskRunsAndRateLimits1795400000009 implements MigrationInterface {
  name = 'CreateTaskRunsAndRateLimits1795400000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE task_runs (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        task_id uuid NOT NULL REFERENCES tasks (id),
        run_number integer NOT NULL,
        trigger_type text NOT NULL,
        trigger_reason text,
        trigger_context jsonb NOT NULL DEFAULT '{}',
        actor text NOT NULL,
        correlation_id text NOT NULL,
        idempotency_key text,
        first_execution_id uuid NOT NULL UNIQUE,
        state text NOT NULL CHECK (state IN ('queued', 'current', 'ended', 'dropped')),
        run_after timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        ended_at timestamptz,
        UNIQUE (task_id, run_number)
      )`);
    await q.query(
      `CREATE INDEX task_runs_queued_idx ON task_runs (task_id, run_number) WHERE state = 'queued'`,
    );

    await q.query(`
      ALTER TABLE tasks
        ADD COLUMN current_run_id uuid,
        ADD COLUMN run_count integer NOT NULL DEFAULT 1,
        ADD COLUMN trigger_type text NOT NULL DEFAULT 'api',
        ADD COLUMN queued_run_count integer NOT NULL DEFAULT 0,
        ADD COLUMN next_execution_id uuid,
        ADD COLUMN schedule jsonb,
        ADD COLUMN next_run_at timestamptz,
        ADD COLUMN paused_from text,
        ADD COLUMN paused_at timestamptz,
        ADD COLUMN pause_requested_at timestamptz`);
    // The run sweep: idle tasks whose next cron occurrence is due, or with a run waiting behind.
    await q.query(`CREATE INDEX tasks_next_run_idx ON tasks (next_run_at) WHERE next_run_at IS NOT NULL`);
    await q.query(`CREATE INDEX tasks_queued_runs_idx ON tasks (updated_at) WHERE queued_run_count > 0`);
    await q.query(
      `CREATE INDEX tasks_pause_requested_idx ON tasks (pause_requested_at) WHERE pause_requested_at IS NOT NULL`,
    );

    await q.query(`
      ALTER TABLE executions
        ADD COLUMN run_id uuid,
        ADD COLUMN run_number integer NOT NULL DEFAULT 1,
        ADD COLUMN task_type text,
        ADD COLUMN trigger_type text NOT NULL DEFAULT 'api',
        ADD COLUMN trigger_reason text,
        ADD COLUMN trigger_context jsonb NOT NULL DEFAULT '{}'`);

    // Every task so far had exactly one run, started by its creation.
    await q.query(`
      INSERT INTO task_runs (id, org_id, task_id, run_number, trigger_type, trigger_context, actor, correlation_id,
                             first_execution_id, state, run_after, created_at, started_at, ended_at)
      SELECT gen_random_uuid(), org_id, id, 1, 'api', '{}', 'user:' || created_by, correlation_id,
             coalesce(current_execution_id, gen_random_uuid()),
             CASE WHEN status IN ('Completed', 'Failed', 'Timeout', 'Cancelled') THEN 'ended' ELSE 'current' END,
             run_after, created_at, created_at,
             CASE WHEN status IN ('Completed', 'Failed', 'Timeout', 'Cancelled') THEN updated_at END
        FROM tasks`);
    await q.query(`UPDATE tasks t SET current_run_id = r.id FROM task_runs r WHERE r.task_id = t.id`);
    await q.query(`
      UPDATE executions e SET run_id = t.current_run_id, task_type = t.type
        FROM tasks t WHERE t.id = e.task_id`);
    // estimatedCompletion: the recent durations of one task type in one org.
    await q.query(`
      CREATE INDEX executions_completed_by_type_idx ON executions (org_id, task_type, completed_at DESC)
       WHERE status = 'Completed'`);
    await q.query(`CREATE INDEX executions_run_idx ON executions (run_id)`);

    // The org-wide feed pages in (tx_id, id) order below the oldest running transaction: no event
    // can appear later before a position already handed out (docs/api/events.md, "Ordering").
    await q.query(`ALTER TABLE task_events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await q.query(`CREATE INDEX task_events_org_feed_idx ON task_events (org_id, tx_id, id)`);
    await q.query(`CREATE INDEX task_events_org_time_idx ON task_events (org_id, occurred_at)`);

    // Fixed-window counters shared by every replica; a row per (limit, subject, window).
    await q.query(`
      CREATE TABLE rate_limit_windows (
        limit_name text NOT NULL,
        subject text NOT NULL,
        window_start timestamptz NOT NULL,
        hits integer NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (limit_name, subject, window_start)
      )`);
    await q.query(`CREATE INDEX rate_limit_windows_expires_idx ON rate_limit_windows (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rate_limit_windows`);
    await q.query(`DROP INDEX task_events_org_time_idx`);
    await q.query(`DROP INDEX task_events_org_feed_idx`);
    await q.query(`ALTER TABLE task_events DROP COLUMN tx_id`);
    await q.query(`DROP INDEX executions_run_idx`);
    await q.query(`DROP INDEX executions_completed_by_type_idx`);
    await q.query(`
      ALTER TABLE executions
        DROP COLUMN run_id, DROP COLUMN run_number, DROP COLUMN task_type, DROP COLUMN trigger_type,
        DROP COLUMN trigger_reason, DROP COLUMN trigger_context`);
    await q.query(`DROP INDEX tasks_pause_requested_idx`);
    await q.query(`DROP INDEX tasks_queued_runs_idx`);
    await q.query(`DROP INDEX tasks_next_run_idx`);
    await q.query(`
      ALTER TABLE tasks
        DROP COLUMN current_run_id, DROP COLUMN run_count, DROP COLUMN trigger_type, DROP COLUMN queued_run_count,
        DROP COLUMN next_execution_id, DROP COLUMN schedule, DROP COLUMN next_run_at, DROP COLUMN paused_from,
        DROP COLUMN paused_at, DROP COLUMN pause_requested_at`);
    await q.query(`DROP TABLE task_runs`);
  }
}
