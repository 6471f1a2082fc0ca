import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batches (sagas): a DAG of tasks whose progress lives in these tables. `task_dependencies` holds
 * each dependency between two tasks once (`kind` 'failure' is reserved for conditions that wait
 * for a failure). A row trigger on `tasks` records every end of a batch task, or of a task a batch
 * task depends on, in `batch_wakeups` in the very transaction of that end, and NOTIFYs: whoever
 * writes the end (a report, a cancel, a timeout, a lost node), the batch's worker hears of it.
 */
export class CreateBatches1795400000013 implements MigrationInterface {
  name = 'CreateBatches1795400000013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE batches (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        name text,
        failure_policy text NOT NULL CHECK (failure_policy IN ('cancel-dependents', 'continue')),
        status text NOT NULL CHECK (status IN
          ('Running', 'Compensating', 'Completed', 'Failed', 'Compensated', 'Cancelled')),
        created_by text NOT NULL,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    // GET /tasks/batches: newest first, optionally by status.
    await q.query(`CREATE INDEX batches_org_idx ON batches (org_id, created_at DESC, id DESC)`);

    await q.query(`ALTER TABLE tasks ADD COLUMN batch_id uuid REFERENCES batches (id)`);
    await q.query(`ALTER TABLE tasks ADD COLUMN batch_step_name text`);
    await q.query(
      `ALTER TABLE tasks ADD COLUMN batch_role text CHECK (batch_role IN ('step', 'compensation'))`,
    );
    await q.query(`ALTER TABLE tasks ADD COLUMN compensates_task_id uuid REFERENCES tasks (id)`);
    // Order in the request (steps, then compensations): the order compensations of one step run in.
    await q.query(`ALTER TABLE tasks ADD COLUMN batch_position integer`);
    // When a waiting task became Pending (dispatchable).
    await q.query(`ALTER TABLE tasks ADD COLUMN batch_released_at timestamptz`);
    await q.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_batch_columns_check CHECK (
        (batch_id IS NULL) = (batch_role IS NULL)
        AND (batch_id IS NULL) = (batch_step_name IS NULL)
        AND (batch_id IS NULL) = (batch_position IS NULL)
        AND ((batch_role = 'compensation') = (compensates_task_id IS NOT NULL)))`);
    await q.query(
      `CREATE UNIQUE INDEX tasks_batch_idx ON tasks (batch_id, batch_step_name) WHERE batch_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE task_dependencies (
        org_id text NOT NULL,
        task_id uuid NOT NULL REFERENCES tasks (id),
        depends_on_task_id uuid NOT NULL REFERENCES tasks (id),
        kind text NOT NULL DEFAULT 'success' CHECK (kind IN ('success', 'failure')),
        batch_id uuid REFERENCES batches (id),
        PRIMARY KEY (task_id, depends_on_task_id),
        CHECK (task_id <> depends_on_task_id)
      )`);
    await q.query(`CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (depends_on_task_id)`);
    await q.query(
      `CREATE INDEX task_dependencies_batch_idx ON task_dependencies (batch_id) WHERE batch_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE batch_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org_id text NOT NULL,
        batch_id uuid NOT NULL REFERENCES batches (id),
        task_id uuid,
        type text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX batch_events_batch_idx ON batch_events (batch_id, id)`);
    await q.query(`
      CREATE FUNCTION batch_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'batch_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER batch_events_append_only BEFORE UPDATE OR DELETE ON batch_events
      FOR EACH ROW EXECUTE FUNCTION batch_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER batch_events_no_truncate BEFORE TRUNCATE ON batch_events
      FOR EACH STATEMENT EXECUTE FUNCTION batch_events_refuse_change()`);

    // The outbox of the saga: one row per end of a task that concerns a batch, claimed by the
    // workers with SKIP LOCKED and deleted in the transaction that acts on it.
    await q.query(`
      CREATE TABLE batch_wakeups (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        batch_id uuid NOT NULL REFERENCES batches (id),
        task_id uuid,
        status text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX batch_wakeups_batch_idx ON batch_wakeups (batch_id)`);
    await q.query(`
      CREATE FUNCTION tasks_wake_batches() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO batch_wakeups (batch_id, task_id, status)
        SELECT DISTINCT batch_id, NEW.id, NEW.status FROM (
          SELECT NEW.batch_id AS batch_id WHERE NEW.batch_id IS NOT NULL
          UNION
          SELECT d.batch_id FROM task_dependencies d
           WHERE d.depends_on_task_id = NEW.id AND d.batch_id IS NOT NULL
        ) AS concerned;
        IF FOUND THEN
          PERFORM pg_notify('meridian_batch_wakeups', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER tasks_wake_batches AFTER UPDATE OF status ON tasks
      FOR EACH ROW
      WHEN (NEW.status IS DISTINCT FROM OLD.status
            AND NEW.status IN ('Completed', 'Failed', 'Timeout', 'Cancelled'))
      EXECUTE FUNCTION tasks_wake_batches()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER tasks_wake_batches ON tasks`);
    await q.query(`DROP FUNCTION tasks_wake_batches()`);
    await q.query(`DROP TABLE batch_wakeups`);
    await q.query(`DROP TABLE batch_events`);
    await q.query(`DROP FUNCTION batch_events_refuse_change()`);
    await q.query(`DROP TABLE task_dependencies`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_batch_columns_check`);
    for (const column of [
      'batch_released_at',
      'batch_position',
      'compensates_task_id',
      'batch_role',
      'batch_step_name',
      'batch_id',
    ]) {
      await q.query(`ALTER TABLE tasks DROP COLUMN ${column}`);
    }
    await q.query(`DROP TABLE batches`);
  }
}
