import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNodeEnrollmentsAndCredentials1795400000007 implements MigrationInterface {
  name = 'CreateNodeEnrollmentsAndCredentials1795400000007';

  async up(q: QueryRunner): Promise<void> {
    // One-time, short-lived tokens an org admin hands to a new agent. Only a hash of the token is
    // kept: the table leaking lets nobody enroll.
    await q.query(`
      CREATE TABLE node_enrollments (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        node_id text,
        name_prefix text,
        labels jsonb NOT NULL DEFAULT '{}',
        max_uses integer NOT NULL CHECK (max_uses >= 1),
        uses integer NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CHECK ((node_id IS NULL) <> (name_prefix IS NULL)),
        CHECK (uses <= max_uses)
      )`);
    await q.query(`CREATE INDEX node_enrollments_org_idx ON node_enrollments (org_id, created_at DESC, id)`);

    // Each enrolled node's broker user. The database is the source of truth: the broker is brought
    // in line with it by the credentials sync (claimed with SKIP LOCKED), which applies `version`
    // and records it as `synced_version`. `password_hash` is in RabbitMQ's own salted SHA-256
    // format, handed to the broker as is: the password itself is never stored.
    await q.query(`
      CREATE TABLE node_credentials (
        node_id text PRIMARY KEY,
        org_id text NOT NULL,
        broker_username text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        enrollment_id uuid,
        version integer NOT NULL DEFAULT 1,
        synced_version integer NOT NULL DEFAULT 0,
        sync_attempts integer NOT NULL DEFAULT 0,
        next_sync_at timestamptz NOT NULL DEFAULT now(),
        last_sync_error text,
        created_at timestamptz NOT NULL,
        rotated_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX node_credentials_unsynced_idx ON node_credentials (next_sync_at) WHERE synced_version < version`,
    );

    // A revoked node takes no work and its messages are refused until it is enrolled again.
    await q.query(`ALTER TABLE nodes ADD COLUMN revoked_at timestamptz`);

    // Headers a message is published with (a re-driven agent message carries its original sender).
    await q.query(`ALTER TABLE outbox ADD COLUMN headers jsonb`);
    // The broker-validated sender (AMQP user_id) of a dead-lettered message, when it had one.
    await q.query(`ALTER TABLE dead_letters ADD COLUMN sender text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters DROP COLUMN sender`);
    await q.query(`ALTER TABLE outbox DROP COLUMN headers`);
    await q.query(`ALTER TABLE nodes DROP COLUMN revoked_at`);
    await q.query(`DROP TABLE node_credentials`);
    await q.query(`DROP TABLE node_enrollments`);
  }
}
