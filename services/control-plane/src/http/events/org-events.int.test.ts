import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { waitFor } from '../../../../../test/support/test-context.js';
import { appendTaskEvents } from '../../persistence/task-event.writes.js';
import {
  allPages,
  appendEvents,
  expectStatus,
  freshOrg,
  ids,
  newTask,
  page,
  problem,
  request,
  type TaskRef,
  useEventsApp,
} from './events.fixture.js';

const state = useEventsApp();
const at = (iso: string) => new Date(iso);

/** The organisation's events in feed order, read from the table. */
async function feedOrder(orgId: string): Promise<string[]> {
  const rows: { id: string }[] = await state.deps.dataSource.query(
    'SELECT id FROM task_events WHERE org_id = $1 ORDER BY tx_id, id',
    [orgId],
  );
  return rows.map((row) => row.id);
}

/** The whole feed once every transaction that wrote to it has ended (other files' may run). */
async function settledFeed(orgId: string, query = ''): Promise<TaskEvent[]> {
  const expected = await feedOrder(orgId);
  return waitFor(
    async () => {
      const { items } = await page(state, orgId, `/events?limit=1000${query}`);
      return query !== '' || items.length === expected.length ? items : null;
    },
    { description: `the feed of ${orgId} to settle` },
  );
}

/** Two tasks of one organisation with events of known types, actors and times; one of another org. */
async function orgWithHistory() {
  const orgId = freshOrg();
  const first = await newTask(state.deps, orgId);
  const second = await newTask(state.deps, orgId);
  await appendEvents(state.deps, first, [
    { type: 'TaskTriggered', actor: 'user:alice', occurredAt: at('2025-01-30T23:59:59.999Z') },
    { type: 'TaskStarted', actor: 'node:n-1', occurredAt: at('2025-01-31T12:00:00.000Z') },
  ]);
  await appendEvents(state.deps, second, [
    { type: 'TaskRescheduled', actor: 'user:bob', occurredAt: at('2025-01-31T00:00:00.000Z') },
  ]);
  await appendEvents(state.deps, first, [
    { type: 'TaskTriggered', actor: 'user:bob', occurredAt: at('2025-02-01T00:00:00.000Z') },
  ]);
  const stranger = freshOrg();
  const foreign = await newTask(state.deps, stranger);
  await appendEvents(state.deps, foreign, [
    { type: 'TaskTriggered', actor: 'user:alice', occurredAt: at('2025-01-31T10:00:00.000Z') },
  ]);
  const all = await settledFeed(orgId);
  return { orgId, first, second, stranger, foreign, all };
}

const summary = (events: readonly TaskEvent[]) => events.map((e) => `${e.eventType}@${e.timestamp}`);

describe('GET /api/v1/events', () => {
  it('answers the organisation’s events of every task in (transaction, id) order, and no other’s', async () => {
    const { orgId, first, second, stranger, foreign, all } = await orgWithHistory();
    expect(ids(all)).toEqual(await feedOrder(orgId));
    expect(all).toHaveLength(2 * 2 + 4);
    expect(new Set(all.map((e) => e.taskId))).toEqual(new Set([first.id, second.id]));
    const theirs = await settledFeed(stranger);
    expect(theirs.map((e) => e.taskId)).toEqual([foreign.id, foreign.id, foreign.id]);
    expect(theirs.map((e) => e.eventType)).toContain('TaskTriggered');
  });

  it.each([
    [
      '&types=TaskTriggered',
      ['TaskTriggered@2025-01-30T23:59:59.999Z', 'TaskTriggered@2025-02-01T00:00:00.000Z'],
    ],
    [
      '&actor=user:bob',
      ['TaskRescheduled@2025-01-31T00:00:00.000Z', 'TaskTriggered@2025-02-01T00:00:00.000Z'],
    ],
    [
      '&from=2025-01-31&to=2025-01-31',
      ['TaskStarted@2025-01-31T12:00:00.000Z', 'TaskRescheduled@2025-01-31T00:00:00.000Z'],
    ],
    [
      '&to=2025-01-31T00:00:00Z',
      ['TaskTriggered@2025-01-30T23:59:59.999Z', 'TaskRescheduled@2025-01-31T00:00:00.000Z'],
    ],
    [
      '&types=TaskTriggered,TaskRescheduled&from=2025-01-31',
      ['TaskRescheduled@2025-01-31T00:00:00.000Z', 'TaskTriggered@2025-02-01T00:00:00.000Z'],
    ],
    [
      '&types=TaskTriggered&actor=user:alice&from=2025-01-30&to=2025-01-31',
      ['TaskTriggered@2025-01-30T23:59:59.999Z'],
    ],
  ])('filters %s, in feed order', async (query, expected) => {
    const { orgId } = await orgWithHistory();
    expect(summary(await settledFeed(orgId, query))).toEqual(expected);
  });

  it('pages with a cursor bound to the organisation and the filters', async () => {
    const { orgId, stranger, all } = await orgWithHistory();
    const pages = await allPages(state, orgId, '/events', { limit: '3' });
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(ids(pages.flat())).toEqual(ids(all));

    const { nextCursor } = await page(state, orgId, '/events?limit=1&types=TaskTriggered');
    const task = all[0]!.taskId;
    const taskCursor = (await page(state, orgId, `/tasks/${task}/events?limit=1`)).nextCursor;
    for (const [caller, query] of [
      [orgId, `/events?types=TaskStarted&cursor=${nextCursor}`],
      [orgId, `/events?cursor=${nextCursor}`],
      [stranger, `/events?types=TaskTriggered&cursor=${nextCursor}`],
      [orgId, `/events?cursor=${taskCursor}`],
      [orgId, `/tasks/${task}/events?types=TaskTriggered&cursor=${nextCursor}`],
    ] as const) {
      const body = await problem(state, caller, query, 400);
      expect(body.errors, query).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
    }
    const rest = await page(state, orgId, `/events?types=TaskTriggered&cursor=${nextCursor}`);
    expect(summary(rest.items)).toEqual(['TaskTriggered@2025-02-01T00:00:00.000Z']);
  });

  it('holds back an event until every transaction that began before its own has ended', async () => {
    const orgId = freshOrg();
    const slow = await newTask(state.deps, orgId);
    const quick = await newTask(state.deps, orgId);
    const before = await settledFeed(orgId);
    const runner = state.deps.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // The slow writer takes its transaction id first, then the quick one commits.
      await runner.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [slow.id]);
      await appendTaskEvents(runner.manager, [slowEvent(slow)]);
      await appendEvents(state.deps, quick, [{ type: 'QuickWrite' }]);
      const meanwhile = await page(state, orgId, '/events?limit=1000');
      expect(meanwhile.items.map((e) => e.eventType)).not.toContain('QuickWrite');
      expect(ids(meanwhile.items)).toEqual(ids(before));
      // A reader holding this full page's cursor must still get the slow event after it.
      const cursor = (await page(state, orgId, `/events?limit=${before.length}`)).nextCursor;
      await runner.commitTransaction();
      const after = await waitFor(
        async () => {
          const { items } = await page(state, orgId, `/events?cursor=${cursor}&limit=${before.length}`);
          return items.length === 2 ? items : null;
        },
        { description: 'both writes in the feed' },
      );
      expect(after.map((e) => e.eventType)).toEqual(['SlowWrite', 'QuickWrite']);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('answers 403 naming task:read-events to a token with task:read only, and 400 for a bad filter', async () => {
    const orgId = freshOrg();
    const body = await expectStatus<{ detail: string }>(
      await request(state, orgId, '/events', ['task:read']),
      403,
    );
    expect(body.detail).toContain('task:read-events');
    for (const [query, field] of [
      ['types=a%20b', 'query.types'],
      ['from=2025-02-01&to=2025-01-31', 'query.from'],
      ['limit=5000', 'query.limit'],
      ['cursor=MS4xMjMuNDUuYWJj', 'query.cursor'],
    ]) {
      const problemBody = await problem(state, orgId, `/events?${query}`, 400);
      expect(problemBody.errors?.map((error) => error.field)).toContain(field);
    }
  });
});

function slowEvent(task: TaskRef) {
  return {
    orgId: task.orgId,
    taskId: task.id,
    type: 'SlowWrite',
    actor: 'system:test',
    correlationId: 'corr-slow',
    occurredAt: state.deps.clock.now(),
  };
}
