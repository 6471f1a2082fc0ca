import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddLostNodesAndRetryPolicies1795400000005 implements MigrationInterface {
  name = 'AddLostNodesAndRetryPolicies1795400000005';

  async up(q: QueryRunner): Promise<void> {
    // An execution given up because its node stopped heartbeating.
    await q.query(`ALTER TABLE executions DROP CONSTRAINT executions_status_check`);
    await q.query(`
      ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN
        ('Dispatched','Accepted','Running','Completed','Failed','Timeout','Cancelling','Cancelled','AgentLost'))`);
    // Set by the lost-node sweep, cleared by the node's next heartbeat. No index: the table is
    // small and heartbeats rewrite its rows every few seconds (an index would cost every beat).
    await q.query(`ALTER TABLE nodes ADD COLUMN lost_at timestamptz`);
    // The task's own backoff (`retryPolicy` of the create body); NULL: the configured one.
    await q.query(`ALTER TABLE tasks ADD COLUMN retry_policy jsonb`);
    await q.query(`
      CREATE TABLE node_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org_id text NOT NULL,
        node_id text NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX node_events_node_idx ON node_events (node_id, id)`);
    await q.query(`
      CREATE FUNCTION node_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'node_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER node_events_append_only BEFORE UPDATE OR DELETE ON node_events
      FOR EACH ROW EXECUTE FUNCTION node_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER node_events_no_truncate BEFORE TRUNCATE ON node_events
      FOR EACH STATEMENT EXECUTE FUNCTION node_events_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE node_events`);
    await q.query(`DROP FUNCTION node_events_refuse_change()`);
    await q.query(`ALTER TABLE tasks DROP COLUMN retry_policy`);
    await q.query(`ALTER TABLE nodes DROP COLUMN lost_at`);
    await q.query(`ALTER TABLE executions DROP CONSTRAINT executions_status_check`);
    await q.query(`UPDATE executions SET status = 'Failed' WHERE status = 'AgentLost'`);
    await q.query(`
      ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN
        ('Dispatched','Accepted','Running','Completed','Failed','Timeout','Cancelling','Cancelled'))`);
  }
}
