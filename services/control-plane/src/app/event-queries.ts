import type { TaskEvent } from '@meridian/contracts/api/task-event';
import type { EventPosition } from '../domain/event-cursor.js';
import type { EventFilter } from '../domain/event-filter.js';
import { NotFoundError } from '../domain/errors.js';
import { toTaskEventDto } from '../persistence/mappers.js';
import {
  selectOrgEvents,
  selectOrgEventsOfRange,
  selectTaskEvents,
  type TaskEventRow,
} from '../persistence/task-event.reads.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

export interface EventPageRequest {
  filter: EventFilter;
  limit: number;
  /** Where the previous page ended (from its cursor); null for the first page. */
  after: EventPosition | null;
}

export interface EventPage {
  items: TaskEvent[];
  /** The last item's position; null on an empty page (the caller's cursor stays where it was). */
  end: EventPosition | null;
  /** The page is full: more events may follow at once. */
  full: boolean;
}

/**
 * A time range holding at most this many of the organisation's (matching) events is read whole
 * from the time index and sorted; a larger one by walking the feed in order, which may pass every
 * event before the range first (docs/performance.md, "Event queries").
 */
export const SORTED_RANGE_MAX_EVENTS = 50_000;

function pageOf(rows: readonly TaskEventRow[], limit: number, withTxId: boolean): EventPage {
  const last = rows.at(-1);
  return {
    items: rows.map(({ txId: _txId, ...event }) => toTaskEventDto(event)),
    end: last ? { id: last.id, txId: withTxId ? last.txId : null } : null,
    full: rows.length === limit,
  };
}

/**
 * A page of one task's events, oldest first (by id). Every writer appends a task's events while
 * holding that task's row lock, so ids are given out and committed in the same order per task:
 * an event committed later never lands before a cursor already handed out.
 */
export async function readTaskEventPage(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  request: EventPageRequest,
): Promise<EventPage> {
  const rows = await selectTaskEvents(deps.dataSource, {
    orgId: actor.orgId,
    taskId,
    filter: request.filter,
    afterId: request.after?.id ?? null,
    limit: request.limit,
  });
  // Events carry their task's org: any row proves the task is the caller's; none needs a look.
  if (rows.length === 0) await assertTaskOfOrg(deps, actor, taskId);
  return pageOf(rows, request.limit, false);
}

async function assertTaskOfOrg(deps: AppDeps, actor: Actor, taskId: string): Promise<void> {
  const found: unknown[] = await deps.dataSource.query('SELECT 1 FROM tasks WHERE id = $1 AND org_id = $2', [
    taskId,
    actor.orgId,
  ]);
  if (found.length === 0) throw new NotFoundError('task', taskId);
}

/**
 * A page of the organisation's events across its tasks, in the order their transactions were
 * given ids, then by id; only events below the oldest running transaction, whose place is final.
 */
export async function readOrgEventPage(
  deps: AppDeps,
  actor: Actor,
  request: EventPageRequest,
): Promise<EventPage> {
  const { filter, limit, after } = request;
  const selection = {
    orgId: actor.orgId,
    filter,
    after: after === null ? null : { txId: after.txId ?? '0', id: after.id },
    limit,
  };
  const ranged = filter.from !== null || filter.to !== null;
  const rows =
    (ranged ? await selectOrgEventsOfRange(deps.dataSource, selection, SORTED_RANGE_MAX_EVENTS) : null) ??
    (await selectOrgEvents(deps.dataSource, selection));
  return pageOf(rows, limit, true);
}
