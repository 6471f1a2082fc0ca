import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Paused (POST /tasks/{id}/pause): a task that starts no run until resumed. */
export class AllowPausedTasks1795400000010 implements MigrationInterface {
  name = 'AllowPausedTasks1795400000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_status_check`);
    await q.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN
        ('Created','Pending','Scheduled','Running','Completed','Failed','Retrying','Timeout','Cancelled','Paused'))`);
    // A Paused task knows the status it returns to when resumed.
    await q.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_paused_from_check CHECK (
        (status <> 'Paused' OR paused_from IS NOT NULL)
        AND (paused_from IS NULL OR paused_from IN ('Pending','Retrying','Completed','Failed','Timeout')))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_paused_from_check`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_status_check`);
    await q.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN
        ('Created','Pending','Scheduled','Running','Completed','Failed','Retrying','Timeout','Cancelled'))`);
  }
}
