import type { MigrationInterface, QueryRunner } from 'typeorm';

// TypeORM orders migrations by the 13-digit suffix of the class name.
export class CreateCoreTables1795400000001 implements MigrationInterface {
  name = 'CreateCoreTables1795400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        type text NOT NULL,
        name text NOT NULL,
        description text,
        priority smallint NOT NULL CHECK (priority BETWEEN 0 AND 3),
        status text NOT NULL CHECK (status IN
          ('Created','Pending','Scheduled','Running','Completed','Failed','Retrying','Timeout','Cancelled')),
        target_type text NOT NULL,
        target_id text NOT NULL,
        node_id text,
        payload jsonb NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        timeout_seconds integer NOT NULL CHECK (timeout_seconds > 0),
        max_retries integer NOT NULL CHECK (max_retries >= 0),
        retry_count integer NOT NULL DEFAULT 0,
        attempt_count integer NOT NULL DEFAULT 0,
        scheduled_at timestamptz,
        run_after timestamptz NOT NULL,
        current_execution_id uuid,
        created_by text NOT NULL,
        cancelled_by text,
        cancellation_reason text,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX tasks_org_created_idx ON tasks (org_id, created_at DESC, id)`);
    await q.query(`CREATE INDEX tasks_org_status_idx ON tasks (org_id, status)`);
    // Only waiting tasks are in this index: the dispatcher's scan stays small however many tasks finished.
    await q.query(`
      CREATE INDEX tasks_dispatch_queue_idx ON tasks (priority DESC, run_after, created_at)
      WHERE status IN ('Pending','Retrying')`);

    await q.query(`
      CREATE TABLE executions (
        id uuid PRIMARY KEY,
        task_id uuid NOT NULL REFERENCES tasks (id),
        org_id text NOT NULL,
        attempt integer NOT NULL,
        status text NOT NULL CHECK (status IN
          ('Dispatched','Accepted','Running','Completed','Failed','Timeout','Cancelling','Cancelled')),
        node_id text NOT NULL,
        agent_id text,
        dispatched_at timestamptz NOT NULL,
        accepted_at timestamptz,
        started_at timestamptz,
        completed_at timestamptz,
        released_at timestamptz,
        deadline timestamptz NOT NULL,
        duration_ms integer,
        exit_code integer,
        progress_percent real,
        progress_message text,
        output text,
        error_output text,
        output_truncated_bytes integer NOT NULL DEFAULT 0,
        error_message text,
        result jsonb,
        last_sequence integer NOT NULL DEFAULT -1,
        correlation_id text NOT NULL,
        UNIQUE (task_id, attempt)
      )`);
    await q.query(`CREATE INDEX executions_task_idx ON executions (task_id, attempt)`);
    // Executions that still hold a slot on their node: counted by every dispatch pass.
    await q.query(`CREATE INDEX executions_active_idx ON executions (node_id) WHERE released_at IS NULL`);
    await q.query(`CREATE INDEX executions_deadline_idx ON executions (deadline) WHERE released_at IS NULL`);

    await q.query(`
      CREATE TABLE task_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org_id text NOT NULL,
        task_id uuid NOT NULL,
        execution_id uuid,
        type text NOT NULL,
        from_status text,
        to_status text,
        actor text NOT NULL,
        correlation_id text NOT NULL,
        message_id text,
        data jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX task_events_task_idx ON task_events (task_id, id)`);
    await q.query(`
      CREATE FUNCTION task_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'task_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE ON task_events
      FOR EACH ROW EXECUTE FUNCTION task_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER task_events_no_truncate BEFORE TRUNCATE ON task_events
      FOR EACH STATEMENT EXECUTE FUNCTION task_events_refuse_change()`);

    await q.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id uuid NOT NULL UNIQUE,
        exchange text NOT NULL,
        routing_key text NOT NULL,
        type text NOT NULL,
        body jsonb NOT NULL,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await q.query(`CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL`);

    await q.query(`
      CREATE TABLE processed_messages (
        message_id uuid PRIMARY KEY,
        type text NOT NULL,
        node_id text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('applied','ignored')),
        reason text,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX processed_messages_processed_at_idx ON processed_messages (processed_at)`);

    // Narrow on purpose: heartbeats rewrite this row every few seconds per node.
    await q.query(`
      CREATE TABLE nodes (
        id text PRIMARY KEY,
        org_id text NOT NULL,
        agent_id text NOT NULL,
        agent_version text NOT NULL,
        protocol_version integer NOT NULL,
        capacity integer NOT NULL,
        reported_running integer NOT NULL DEFAULT 0,
        labels jsonb NOT NULL DEFAULT '{}',
        draining boolean NOT NULL DEFAULT false,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX nodes_org_idx ON nodes (org_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE nodes`);
    await q.query(`DROP TABLE processed_messages`);
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE task_events`);
    await q.query(`DROP FUNCTION task_events_refuse_change()`);
    await q.query(`DROP TABLE executions`);
    await q.query(`DROP TABLE tasks`);
  }
}
