import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdempotencyKeysAndDeadLetters1795400000006 implements MigrationInterface {
  name = 'CreateIdempotencyKeysAndDeadLetters1795400000006';

  async up(q: QueryRunner): Promise<void> {
    // One row per (organisation, operation, key): inserted in the transaction that does the work, so
    // a second request with the key waits on this primary key until the first commits, then replays.
    // The body is the response's JSON text, replayed byte for byte (jsonb would reorder its keys).
    await q.query(`
      CREATE TABLE idempotency_keys (
        org_id text NOT NULL,
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response_status integer NOT NULL,
        response_body text NOT NULL,
        response_headers jsonb NOT NULL DEFAULT '{}',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, scope, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at)`);

    // What landed on a dead-letter queue, kept for people to read and re-drive.
    await q.query(`
      CREATE TABLE dead_letters (
        id uuid PRIMARY KEY,
        org_id text,
        queue text NOT NULL,
        reason text NOT NULL,
        message_type text,
        message_id text,
        correlation_id text,
        original_exchange text NOT NULL,
        original_routing_key text,
        headers jsonb NOT NULL DEFAULT '{}',
        body bytea,
        body_size integer,
        body_truncated boolean NOT NULL DEFAULT false,
        dead_lettered_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        redriven_at timestamptz,
        redriven_by text
      )`);
    await q.query(
      `CREATE INDEX dead_letters_org_time_idx ON dead_letters (org_id, dead_lettered_at DESC, id)`,
    );
    await q.query(`CREATE INDEX dead_letters_message_idx ON dead_letters (message_id)`);
    await q.query(`CREATE INDEX dead_letters_time_idx ON dead_letters (dead_lettered_at)`);

    // A re-driven dead letter is published through the outbox byte for byte (it may not even be
    // JSON) under its own message id, so that consumers' dedupe still recognises it; the outbox's
    // own message_id stays the row's unique key.
    await q.query(`ALTER TABLE outbox ALTER COLUMN body DROP NOT NULL`);
    await q.query(`ALTER TABLE outbox ADD COLUMN body_bytes bytea`);
    await q.query(`ALTER TABLE outbox ADD COLUMN amqp_message_id text`);
    await q.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_one_body CHECK ((body IS NULL) <> (body_bytes IS NULL))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM outbox WHERE body IS NULL`);
    await q.query(`ALTER TABLE outbox DROP CONSTRAINT outbox_one_body`);
    await q.query(`ALTER TABLE outbox DROP COLUMN amqp_message_id`);
    await q.query(`ALTER TABLE outbox DROP COLUMN body_bytes`);
    await q.query(`ALTER TABLE outbox ALTER COLUMN body SET NOT NULL`);
    await q.query(`DROP TABLE dead_letters`);
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
