import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddExecutionLogTruncatedThrough1795400000003 implements MigrationInterface {
  name = 'AddExecutionLogTruncatedThrough1795400000003';

  async up(q: QueryRunner): Promise<void> {
    // The highest seq the tail window has dropped. Lines arrive out of order when several replicas
    // consume (and on redelivery): a missing line above it has never been seen and is stored; one at
    // or below it was seen and dropped already, and a redelivery must not count it twice.
    await q.query(`ALTER TABLE execution_logs ADD COLUMN truncated_through_seq integer NOT NULL DEFAULT -1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE execution_logs DROP COLUMN truncated_through_seq`);
  }
}
