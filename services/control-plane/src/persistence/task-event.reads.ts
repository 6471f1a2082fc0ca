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

export interface TaskEventSelection {
  orgId: string;
  taskId: string;
  filter: EventFilter;
  /** Only events after this id. */
  afterId: string | null;
  limit: number;
}

/** One task's events in id order (task_events_task_idx). */
export async function selectTaskEvents(db: DataSource, s: TaskEventSelection): Promise<TaskEventRow[]> {
  const params = new Params();
  const where = [`task_id = ${params.add(s.taskId)}`, `org_id = ${params.add(s.orgId)}`];
  where.push(...filterConditions(s.filter, params));
  if (s.afterId !== null) where.push(`id > ${params.add(s.afterId, '::bigint')}`);
  return db.query(
    `SELECT ${COLUMNS} FROM task_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${params.add(s.limit)}`,
    params.values,
  );
}

export interface OrgEventSelection {
  orgId: string;
  filter: EventFilter;
  after: { txId: string; id: string } | null;
  limit: number;
  /**
   * `feed`: walk task_events_org_feed_idx in (tx_id, id) order, filtering as it goes. `range`:
   * take every row of the time range first (task_events_org_time_idx), then sort; for a range
   * holding few rows, which the walk might have to reach through the whole history.
   */
  plan: 'feed' | 'range';
}

/** The organisation's settled events in (tx_id, id) order. */
export async function selectOrgEvents(db: DataSource, s: OrgEventSelection): Promise<TaskEventRow[]> {
  const params = new Params();
  const scope = `org_id = ${params.add(s.orgId)}`;
  const filters = filterConditions(s.filter, params);
  const after =
    s.after === null
      ? []
      : [`(tx_id, id) > (${params.add(s.after.txId, '::xid8')}, ${params.add(s.after.id, '::bigint')})`];
  const limit = params.add(s.limit);
  if (s.plan === 'feed') {
    const where = [scope, SETTLED, ...after, ...filters].join(' AND ');
    return db.query(
      `SELECT ${COLUMNS} FROM task_events WHERE ${where} ORDER BY tx_id, id LIMIT ${limit}`,
      params.values,
    );
  }
  // MATERIALIZED keeps the planner from walking the feed index for the ORDER BY instead.
  return db.query(
    `WITH in_range AS MATERIALIZED (
       SELECT ${COLUMNS}, tx_id FROM task_events WHERE ${[scope, ...filters].join(' AND ')})
     SELECT "id", "orgId", "taskId", "executionId", type, "fromStatus", "toStatus", actor, "correlationId",
            "messageId", data, "occurredAt", "recordedAt", "txId"
       FROM in_range WHERE ${[SETTLED, ...after].join(' AND ')} ORDER BY tx_id, id LIMIT ${limit}`,
    params.values,
  );
}

/** How many of the organisation's events lie in the filter's time range, counting up to `cap`. */
export async function countOrgEventsInRange(
  db: DataSource,
  orgId: string,
  filter: EventFilter,
  cap: number,
): Promise<number> {
  const params = new Params();
  const where = [`org_id = ${params.add(orgId)}`, ...timeConditions(filter, params)].join(' AND ');
  const rows: { n: number }[] = await db.query(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM task_events WHERE ${where} LIMIT ${params.add(cap)}) capped`,
    params.values,
  );
  return rows[0]?.n ?? 0;
}
