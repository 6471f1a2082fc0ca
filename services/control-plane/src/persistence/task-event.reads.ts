import type { DataSource } from 'typeorm';
import type { EventFilter } from '../domain/event-filter.js';
import type { TaskEventEntity } from './entities/task-event.entity.js';

/** An event row with the id of the transaction that wrote it (`xid8` in decimal). */
export interface TaskEventRow extends TaskEventEntity {
  txId: string;
}

const COLUMNS = `id, org_id AS "orgId", task_id AS "taskId", execution_id AS "executionId", type,
  from_status AS "fromStatus", to_status AS "toStatus", actor, correlation_id AS "correlationId",
  message_id AS "messageId", data, occurred_at AS "occurredAt", recorded_at AS "recordedAt",
  tx_id::text AS "txId"`;

/**
 * Below the oldest transaction still running anywhere on the server: every transaction under it
 * has ended, so no row can appear there later (docs/api/events.md, "Ordering").
 */
const SETTLED = 'tx_id < pg_snapshot_xmin(pg_current_snapshot())';

/** Placeholders `$1…$n` in the order values are added. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

function timeConditions(filter: EventFilter, params: Params): string[] {
  const where: string[] = [];
  if (filter.from !== null) where.push(`occurred_at >= ${params.add(filter.from, '::timestamptz')}`);
  if (filter.to !== null) {
    where.push(
      `occurred_at ${filter.to.inclusive ? '<=' : '<'} ${params.add(filter.to.at, '::timestamptz')}`,
    );
  }
  return where;
}

function filterConditions(filter: EventFilter, params: Params): string[] {
  const where = timeConditions(filter, params);
  if (filter.types !== null) where.push(`type = ANY(${params.add(filter.types, '::text[]')})`);
  if (filter.actor !== null) where.push(`actor = ${params.add(filter.actor)}`);
  return where;
}

/**
 * The rows of a page whose ids `keys` selects: the keys come from an index alone (the filtered
 * columns are in it, migration 0010), and only the page's rows are read from the table.
 */
function pageRows(keys: string, order: string): string {
  return `SELECT ${COLUMNS} FROM (${keys}) page JOIN task_events USING (id) ORDER BY ${order}`;
}

export interface TaskEventSelection {
  orgId: string;
  taskId: string;
  filter: EventFilter;
  /** Only events after this id. */
  afterId: string | null;
  limit: number;
}

/** One task's events in id order (task_events_task_covering_idx). */
export async function selectTaskEvents(db: DataSource, s: TaskEventSelection): Promise<TaskEventRow[]> {
  const params = new Params();
  const where = [`task_id = ${params.add(s.taskId)}`, `org_id = ${params.add(s.orgId)}`];
  where.push(...filterConditions(s.filter, params));
  if (s.afterId !== null) where.push(`id > ${params.add(s.afterId, '::bigint')}`);
  const keys = `SELECT id FROM task_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${params.add(s.limit)}`;
  return db.query(pageRows(keys, 'id'), params.values);
}

export interface OrgEventSelection {
  orgId: string;
  filter: EventFilter;
  after: { txId: string; id: string } | null;
  limit: number;
}

function orgConditions(s: OrgEventSelection, params: Params): string[] {
  const where = [`org_id = ${params.add(s.orgId)}`, ...filterConditions(s.filter, params)];
  if (s.after !== null) {
    where.push(
      `(tx_id, id) > (${params.add(s.after.txId, '::xid8')}, ${params.add(s.after.id, '::bigint')})`,
    );
  }
  return where;
}

/**
 * The organisation's settled events in (tx_id, id) order, walking task_events_org_feed_covering_idx
 * in that order from the cursor and filtering as it goes.
 */
export async function selectOrgEvents(db: DataSource, s: OrgEventSelection): Promise<TaskEventRow[]> {
  const params = new Params();
  const where = [...orgConditions(s, params), SETTLED].join(' AND ');
  const keys = `SELECT id FROM task_events WHERE ${where} ORDER BY tx_id, id LIMIT ${params.add(s.limit)}`;
  return db.query(pageRows(keys, 'tx_id, id'), params.values);
}

/**
 * The same page for a filter with a time range, read the other way: every key of the range from
 * task_events_org_time_covering_idx, sorted. Walking the feed would pass every event before the
 * range first; this costs what the range holds, so it gives up (null) past `maxEvents` matching
 * events, having read no more than that.
 */
export async function selectOrgEventsOfRange(
  db: DataSource,
  s: OrgEventSelection,
  maxEvents: number,
): Promise<TaskEventRow[] | null> {
  const params = new Params();
  const where = orgConditions(s, params).join(' AND ');
  const rows: (TaskEventRow & { matching: number })[] = await db.query(
    `WITH in_range AS MATERIALIZED (
            SELECT tx_id, id FROM task_events WHERE ${where} LIMIT ${params.add(maxEvents + 1)}),
          page AS (SELECT id FROM in_range WHERE ${SETTLED} ORDER BY tx_id, id LIMIT ${params.add(s.limit)})
     SELECT counted.matching, events.*
       FROM (SELECT count(*)::int AS matching FROM in_range) counted
       LEFT JOIN (${pageRows('SELECT id FROM page', 'tx_id, id')}) events ON true
      ORDER BY events."txId"::xid8, events.id`,
    params.values,
  );
  if ((rows[0]?.matching ?? 0) > maxEvents) return null;
  return rows.filter((row) => row.id !== null).map(({ matching: _matching, ...row }) => row);
}
