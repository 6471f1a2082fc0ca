import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddOutboxNextAttemptAt1795400000004 implements MigrationInterface {
  name = 'AddOutboxNextAttemptAt1795400000004';

  async up(q: QueryRunner): Promise<void> {
    // When the relay may publish an unsent row again after a failed or unconfirmed publish. now()
    // is stable, so existing rows take the migration's time (due at once) without a table rewrite.
    await q.query(`ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now()`);
    // The relay claims `published_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT n`:
    // the index keeps id order and lets the scan pass over rows not yet due without reading them.
    await q.query(
      `CREATE INDEX outbox_unpublished_due_idx ON outbox (id, next_attempt_at) WHERE published_at IS NULL`,
    );
    await q.query(`DROP INDEX outbox_unpublished_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL`);
    await q.query(`DROP INDEX outbox_unpublished_due_idx`);
    await q.query(`ALTER TABLE outbox DROP COLUMN next_attempt_at`);
  }
}
