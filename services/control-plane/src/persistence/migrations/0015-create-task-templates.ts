import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Task templates: a named DAG of task definitions, executed into a batch. `org_id` NULL is a
 * global template, visible to every organisation. The tasks (with their payload defaults and
 * JSON Schemas) are one jsonb document: they are read and written whole, checked by the API.
 */
export class CreateTaskTemplates1795400000015 implements MigrationInterface {
  name = 'CreateTaskTemplates1795400000015';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE task_templates (
        id uuid PRIMARY KEY,
        org_id text,
        name text NOT NULL,
        description text,
        category text,
        tags text[] NOT NULL,
        is_active boolean NOT NULL,
        required_fields text[] NOT NULL,
        optional_fields text[] NOT NULL,
        failure_policy text NOT NULL CHECK (failure_policy IN ('cancel-dependents', 'continue')),
        tasks jsonb NOT NULL CHECK (jsonb_typeof(tasks) = 'array'),
        created_by text NOT NULL,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // The list pages an organisation's templates and the global ones, newest first.
    await q.query(`CREATE INDEX task_templates_org_idx ON task_templates (org_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX task_templates_tags_idx ON task_templates USING gin (tags)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE task_templates`);
  }
}
