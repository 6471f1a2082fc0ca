import type { MigrationInterface, QueryRunner } from 'typeorm';

interface IndexChange {
  old: string;
  oldDefinition: string;
  replacement: string;
  definition: string;
}

/*
 * The event queries filter by type, actor and time and then page in id or (tx_id, id) order. With
 * the filtered columns in the index, a page's rows are chosen from the index alone (an index-only
 * scan, no table page read per event passed over) and only the rows of the page are then read:
 * on a task of 10,000 events spread over a large table a filtered page went from ~25 ms to ~2 ms,
 * and a small time range of an organisation's feed can be sorted from the time index alone
 * (docs/performance.md, "Event queries"). Each replaces an index of the same keys.
 */
const CHANGES: IndexChange[] = [
  {
    old: 'task_events_task_idx',
    oldDefinition: '(task_id, id)',
    replacement: 'task_events_task_covering_idx',
    definition: '(task_id, id) INCLUDE (org_id, type, actor, occurred_at)',
  },
  {
    old: 'task_events_org_feed_idx',
    oldDefinition: '(org_id, tx_id, id)',
    replacement: 'task_events_org_feed_covering_idx',
    definition: '(org_id, tx_id, id) INCLUDE (type, actor, occurred_at)',
  },
  {
    old: 'task_events_org_time_idx',
    oldDefinition: '(org_id, occurred_at)',
    replacement: 'task_events_org_time_covering_idx',
    definition: '(org_id, occurred_at) INCLUDE (tx_id, id, type, actor)',
  },
];

/**
 * Built CONCURRENTLY, outside a transaction, so that writers of task_events (every state change)
 * are not held up while a large table is indexed; plainly when the runner holds a transaction
 * anyway (TypeORM reverts a migration in one). A concurrent build that failed half-way leaves an
 * invalid index behind; running the migration again drops it and builds it anew.
 */
function concurrently(q: QueryRunner): string {
  return q.isTransactionActive ? '' : ' CONCURRENTLY';
}

async function buildIndex(q: QueryRunner, name: string, definition: string): Promise<void> {
  const found = (await q.query(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
    [name],
  )) as { valid: boolean }[];
  if (found[0]?.valid === false) await q.query(`DROP INDEX${concurrently(q)} ${name}`);
  await q.query(`CREATE INDEX${concurrently(q)} IF NOT EXISTS ${name} ON task_events ${definition}`);
}

export class CoverTaskEventIndexes1795400000011 implements MigrationInterface {
  name = 'CoverTaskEventIndexes1795400000011';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const change of CHANGES) {
      await buildIndex(q, change.replacement, change.definition);
      await q.query(`DROP INDEX${concurrently(q)} IF EXISTS ${change.old}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const change of CHANGES) {
      await buildIndex(q, change.old, change.oldDefinition);
      await q.query(`DROP INDEX${concurrently(q)} IF EXISTS ${change.replacement}`);
    }
  }
}
