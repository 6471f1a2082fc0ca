import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddNodeEnrollmentsRevokedBy1795400000008 implements MigrationInterface {
  name = 'AddNodeEnrollmentsRevokedBy1795400000008';

  async up(q: QueryRunner): Promise<void> {
    // Who revoked a token: with created_by and the times, an enrollment row is its own audit record
    // (a prefix enrollment names no node, so node_events cannot hold it).
    await q.query(`ALTER TABLE node_enrollments ADD COLUMN revoked_by text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE node_enrollments DROP COLUMN revoked_by`);
  }
}
