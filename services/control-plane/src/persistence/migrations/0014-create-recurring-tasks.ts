import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recurring tasks (a task definition and a cron schedule) and their occurrences. The primary key
 * of an occurrence, (recurring task, scheduled time), is what makes each occurrence create one
 * task at most, with any number of replicas and across restarts: it is inserted in the
 * transaction that creates the task.
 */
export class CreateRecurringTasks1795400000014 implements MigrationInterface {
  name = 'CreateRecurringTasks1795400000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recurring_tasks (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        name text NOT NULL,
        description text,
        type text NOT NULL,
        target_type text NOT NULL,
        target_id text NOT NULL,
        node_id text,
        payload jsonb NOT NULL,
        metadata jsonb NOT NULL,
        priority text NOT NULL CHECK (priority IN ('Low', 'Normal', 'High', 'Critical')),
        timeout_seconds integer,
        max_retries integer,
        retry_policy jsonb,
        schedule text NOT NULL,
        timezone text NOT NULL,
        enabled boolean NOT NULL,
        overlap text NOT NULL CHECK (overlap IN ('skip', 'allow', 'queue')),
        misfire text NOT NULL CHECK (misfire IN ('skip', 'fire-once', 'fire-all')),
        next_run_at timestamptz,
        last_run_at timestamptz,
        last_task_id uuid,
        created_by text NOT NULL,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        -- A disabled one has no next run: the loop never claims it.
        CHECK (enabled OR next_run_at IS NULL)
      )`);
    // The loop claims the due ones, oldest first; the list pages an organisation's newest first.
    await q.query(
      `CREATE INDEX recurring_tasks_due_idx ON recurring_tasks (next_run_at) WHERE next_run_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX recurring_tasks_org_idx ON recurring_tasks (org_id, created_at DESC, id DESC)`,
    );
    await q.query(`
      CREATE TABLE recurring_occurrences (
        recurring_task_id uuid NOT NULL REFERENCES recurring_tasks (id) ON DELETE CASCADE,
        scheduled_for timestamptz NOT NULL,
        org_id text NOT NULL,
        fired_at timestamptz NOT NULL,
        manual boolean NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('created', 'skipped')),
        -- No foreign key: the retention purge may delete the task, its occurrence stays.
        task_id uuid,
        skip_reason text,
        PRIMARY KEY (recurring_task_id, scheduled_for),
        CHECK ((outcome = 'created') = (task_id IS NOT NULL)),
        CHECK ((outcome = 'skipped') = (skip_reason IS NOT NULL))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE recurring_occurrences`);
    await q.query(`DROP TABLE recurring_tasks`);
  }
}
