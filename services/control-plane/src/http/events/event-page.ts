import type { Context } from 'hono';
import { EventQuerySchema, type EventQuery, type TaskEventList } from '@meridian/contracts/api/task-event';
import type { AppDeps } from '../../app/app-deps.js';
import { readOrgEventPage, readTaskEventPage } from '../../app/event-queries.js';
import { decodeEventCursor, encodeEventCursor, type EventScope } from '../../domain/event-cursor.js';
import { emptyRangeReason, eventFilterKey, eventFilterOf } from '../../domain/event-filter.js';
import { actorOf } from '../authorize.js';
import type { HttpEnv } from '../http-env.js';
import { buildProblem, PROBLEM_CONTENT_TYPE } from '../problem.js';

/** The query of both event routes: the contract's filters, and a range that holds an instant. */
export const EventQueryParams = EventQuerySchema.superRefine((query, ctx) => {
  const reason = emptyRangeReason(query);
  if (reason !== null) ctx.addIssue({ code: 'custom', path: ['from'], message: reason });
});

export const EVENT_ROUTE_NOTES =
  'Needs `task:read-events`. Oldest first; filters `types`, `from`, `to` (inclusive; a bare date is ' +
  'a whole UTC day), `actor`, combined with AND. `nextCursor` points after the page’s last event (null on an empty ' +
  'page) and `hasMore` says the page was full: pass the cursor as `cursor`, with the same filters, for ' +
  'the next page, or later to follow the log; a cursor of another route, task or ' +
  'filter set is a 400. Paging is stable while events are appended: nothing is skipped or repeated.';

const CURSOR_MISMATCH =
  'is not the nextCursor of a page of this query: a cursor only works on the route, task and ' +
  'filters (types, from, to, actor) it came from, unchanged';

/**
 * Answers one page of events of `scope`, or a 400 naming `cursor` when the cursor is not one of
 * this query's. Another organisation's task is a 404 (from the use case).
 */
export async function answerEventPage(
  c: Context<HttpEnv>,
  deps: AppDeps,
  query: EventQuery,
  taskId?: string,
) {
  const actor = actorOf(c);
  const scope: EventScope =
    taskId === undefined ? { kind: 'org', orgId: actor.orgId } : { kind: 'task', orgId: actor.orgId, taskId };
  const filter = eventFilterOf(query);
  const filterKey = eventFilterKey(filter);
  const after = query.cursor === undefined ? null : decodeEventCursor(query.cursor, scope, filterKey);
  if (query.cursor !== undefined && after === null) {
    // As the validation hook answers, but typed for the route (a 400 its document declares).
    const problem = buildProblem('validation', {
      detail: 'invalid query.cursor',
      errors: [{ field: 'query.cursor', message: CURSOR_MISMATCH }],
      instance: c.req.path,
      correlationId: c.get('correlationId'),
    });
    return c.json(problem, 400, { 'Content-Type': PROBLEM_CONTENT_TYPE });
  }
  const request = { filter, limit: query.limit, after };
  const page =
    scope.kind === 'task'
      ? await readTaskEventPage(deps, actor, scope.taskId, request)
      : await readOrgEventPage(deps, actor, request);
  const body: TaskEventList = {
    items: page.items,
    nextCursor: page.end === null ? null : encodeEventCursor(scope, filterKey, page.end),
    hasMore: page.full,
  };
  return c.json(body, 200);
}
