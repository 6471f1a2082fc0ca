import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The servers each node hosts, as its heartbeats report them (or `assigned` by a ServerStart that
 * named a node, until the node reports the server), and the task types each agent announces.
 * A server id is unique within an organisation: it names one server wherever it runs.
 */
export class CreateNodeServers1795400000012 implements MigrationInterface {
  name = 'CreateNodeServers1795400000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE node_servers (
        org_id text NOT NULL,
        server_id text NOT NULL,
        node_id text NOT NULL REFERENCES nodes (id),
        state text NOT NULL CHECK (state IN
          ('assigned', 'starting', 'running', 'stopping', 'stopped', 'crashed', 'restarting')),
        pid integer,
        started_at timestamptz,
        last_exit_code integer,
        last_exit_signal text,
        restarts integer NOT NULL DEFAULT 0,
        changed_at timestamptz,
        reported_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, server_id),
        -- Only an assigned server has never been reported.
        CHECK ((state = 'assigned') = (reported_at IS NULL))
      )`);
    // GET /nodes/{id}/servers pages a node's servers in server id order.
    await q.query(`CREATE INDEX node_servers_node_idx ON node_servers (org_id, node_id, server_id)`);
    await q.query(`ALTER TABLE nodes ADD COLUMN handler_types text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE nodes DROP COLUMN handler_types`);
    await q.query(`DROP TABLE node_servers`);
  }
}
