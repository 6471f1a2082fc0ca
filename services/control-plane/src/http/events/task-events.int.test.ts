import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
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
  useEventsApp,
} from './events.fixture.js';

const state = useEventsApp();
const at = (iso: string) => new Date(iso);

/** A task with its two creation events and six more of known types, actors and times. */
async function taskWithHistory() {
  const orgId = freshOrg();
  const task = await newTask(state.deps, orgId);
  await appendEvents(state.deps, task, [
    { type: 'TaskTriggered', actor: 'user:alice', occurredAt: at('2025-01-30T23:59:59.999Z') },
    { type: 'TaskRescheduled', actor: 'user:bob', occurredAt: at('2025-01-31T00:00:00.000Z') },
    { type: 'TaskStarted', actor: 'node:n-1', occurredAt: at('2025-01-31T12:00:00.000Z') },
    { type: 'TaskTriggered', actor: 'user:bob', occurredAt: at('2025-01-31T23:59:59.999Z') },
    { type: 'TaskFailed', actor: 'node:n-1', occurredAt: at('2025-02-01T00:00:00.000Z') },
    { type: 'TaskRescheduled', actor: 'user:alice', occurredAt: at('2025-02-01T00:00:00.001Z') },
  ]);
  const path = `/tasks/${task.id}/events`;
  const all = (await page(state, orgId, path)).items;
  return { orgId, task, path, all };
}

const summary = (events: readonly TaskEvent[]) => events.map((e) => `${e.eventType}@${e.timestamp}`);

describe('GET /api/v1/tasks/{id}/events filters', () => {
  it('answers every event oldest first, in the seed’s shape and with the fields older clients read', async () => {
    const { task, all } = await taskWithHistory();
    expect(all.map((e) => e.eventType)).toEqual([
      'TaskCreated',
      'TaskQueued',
      'TaskTriggered',
      'TaskRescheduled',
      'TaskStarted',
      'TaskTriggered',
      'TaskFailed',
      'TaskRescheduled',
    ]);
    const ordered = all.map((e) => BigInt(e.eventId));
    expect(ordered).toEqual([...ordered].sort((a, b) => (a < b ? -1 : 1)));
    const queued = all[1]!;
    expect(queued).toMatchObject({
      eventId: queued.id,
      eventType: 'TaskQueued',
      taskId: task.id,
      previousState: 'Created',
      newState: 'Pending',
      timestamp: queued.occurredAt,
      metadata: queued.data,
      // older clients' names
      type: 'TaskQueued',
      fromStatus: 'Created',
      toStatus: 'Pending',
    });
    for (const field of ['actor', 'correlationId', 'executionId', 'messageId', 'recordedAt']) {
      expect(queued).toHaveProperty(field);
    }
  });

  it.each([
    [
      'types=TaskTriggered',
      ['TaskTriggered@2025-01-30T23:59:59.999Z', 'TaskTriggered@2025-01-31T23:59:59.999Z'],
    ],
    [
      'types=TaskTriggered,TaskRescheduled&actor=user:alice',
      ['TaskTriggered@2025-01-30T23:59:59.999Z', 'TaskRescheduled@2025-02-01T00:00:00.001Z'],
    ],
    ['types=TaskNeverRecorded', []],
    ['actor=node:n-1', ['TaskStarted@2025-01-31T12:00:00.000Z', 'TaskFailed@2025-02-01T00:00:00.000Z']],
    ['actor=node:n', []],
    [
      'types=TaskStarted&types=TaskFailed',
      ['TaskStarted@2025-01-31T12:00:00.000Z', 'TaskFailed@2025-02-01T00:00:00.000Z'],
    ],
    // A bare `to` takes in its whole UTC day; a bare `from` starts at its 00:00 UTC.
    [
      'from=2025-01-31&to=2025-01-31',
      [
        'TaskRescheduled@2025-01-31T00:00:00.000Z',
        'TaskStarted@2025-01-31T12:00:00.000Z',
        'TaskTriggered@2025-01-31T23:59:59.999Z',
      ],
    ],
    ['to=2025-01-30', ['TaskTriggered@2025-01-30T23:59:59.999Z']],
    // Date-times are inclusive at both ends, offsets honoured.
    [
      'from=2025-01-31T01:00:00%2B01:00&to=2025-02-01T00:00:00Z',
      [
        'TaskRescheduled@2025-01-31T00:00:00.000Z',
        'TaskStarted@2025-01-31T12:00:00.000Z',
        'TaskTriggered@2025-01-31T23:59:59.999Z',
        'TaskFailed@2025-02-01T00:00:00.000Z',
      ],
    ],
    ['from=2025-02-01T00:00:00.0005Z&to=2025-12-31', ['TaskRescheduled@2025-02-01T00:00:00.001Z']],
    [
      'types=TaskTriggered,TaskRescheduled&from=2025-01-31&to=2025-01-31&actor=user:bob',
      ['TaskRescheduled@2025-01-31T00:00:00.000Z', 'TaskTriggered@2025-01-31T23:59:59.999Z'],
    ],
  ])('%s', async (query, expected) => {
    const { orgId, path } = await taskWithHistory();
    expect(summary((await page(state, orgId, `${path}?${query}`)).items)).toEqual(expected);
  });

  it('ignores parameters it does not know, as the other list routes do', async () => {
    const { orgId, path, all } = await taskWithHistory();
    expect(ids((await page(state, orgId, `${path}?sort=desc&page=3`)).items)).toEqual(ids(all));
  });

  it.each([
    ['types=Task-Created', 'query.types'],
    ['types=', 'query.types'],
    ['from=31.01.2025', 'query.from'],
    ['to=2025-01-31T10:00:00', 'query.to'],
    ['from=2025-02-01&to=2025-01-31', 'query.from'],
    ['actor=', 'query.actor'],
    [`actor=${'a'.repeat(201)}`, 'query.actor'],
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['cursor=%3D%3D', 'query.cursor'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    const { orgId, path } = await taskWithHistory();
    const body = await problem(state, orgId, `${path}?${query}`, 400);
    expect(body.errors?.map((error) => error.field)).toContain(field);
  });
});

describe('GET /api/v1/tasks/{id}/events pages', () => {
  it('pages with limit and cursor: full pages carry a cursor, the union is the whole log once', async () => {
    const { orgId, path, all } = await taskWithHistory();
    const pages = await allPages(state, orgId, path, { limit: '3' });
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(ids(pages.flat())).toEqual(ids(all));
    // A last page that is exactly full still carries a cursor; the page after it is empty.
    const exact = await allPages(state, orgId, path, { limit: '4' });
    expect(exact.map((p) => p.length)).toEqual([4, 4, 0]);
    expect((await page(state, orgId, `${path}?limit=1000`)).items).toHaveLength(8);
  });

  it('keeps the filters across pages and lets limit change', async () => {
    const { orgId, path } = await taskWithHistory();
    const first = await page(state, orgId, `${path}?types=TaskTriggered,TaskRescheduled&limit=1`);
    expect(first.items.map((e) => e.eventType)).toEqual(['TaskTriggered']);
    const rest = await page(
      state,
      orgId,
      `${path}?types=TaskRescheduled,TaskTriggered&limit=10&cursor=${first.nextCursor}`,
    );
    expect(rest.items.map((e) => e.eventType)).toEqual([
      'TaskRescheduled',
      'TaskTriggered',
      'TaskRescheduled',
    ]);
    expect(rest.hasMore).toBe(false);
    // Past the last event: an empty page, no cursor; the caller keeps the one it sent.
    const after = await page(
      state,
      orgId,
      `${path}?types=TaskRescheduled,TaskTriggered&cursor=${rest.nextCursor}`,
    );
    expect(after).toEqual({ items: [], nextCursor: null, hasMore: false });
  });

  it('answers 400 naming cursor for a cursor of other filters, another task, the org feed or altered', async () => {
    const { orgId, task, path } = await taskWithHistory();
    const other = await newTask(state.deps, orgId);
    const { nextCursor } = await page(state, orgId, `${path}?limit=2&types=TaskTriggered,TaskQueued`);
    const orgCursor = (await page(state, orgId, '/events?limit=1')).nextCursor;
    const text = Buffer.from(nextCursor!, 'base64url').toString();
    const altered = Buffer.from(text.replace(/\.(\d+)\./, (_, id: string) => `.${Number(id) - 1}.`)).toString(
      'base64url',
    );
    for (const query of [
      `/tasks/${task.id}/events?limit=2&types=TaskTriggered&cursor=${nextCursor}`,
      `/tasks/${task.id}/events?limit=2&cursor=${nextCursor}`,
      `/tasks/${task.id}/events?types=TaskTriggered,TaskQueued&actor=user:bob&cursor=${nextCursor}`,
      `/tasks/${other.id}/events?limit=2&types=TaskTriggered,TaskQueued&cursor=${nextCursor}`,
      `/tasks/${task.id}/events?cursor=${orgCursor}`,
      `/tasks/${task.id}/events?types=TaskTriggered,TaskQueued&cursor=${altered}`,
    ]) {
      const body = await problem(state, orgId, query, 400);
      expect(body.errors, query).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
    }
    // The same cursor on its own query still works.
    await page(state, orgId, `${path}?limit=5&types=TaskQueued,TaskTriggered&cursor=${nextCursor}`);
  });
});

describe('GET /api/v1/tasks/{id}/events access', () => {
  it('answers 404 for another organisation’s task, with or without events, and for an unknown one', async () => {
    const { task, path } = await taskWithHistory();
    const stranger = freshOrg();
    await newTask(state.deps, stranger);
    for (const query of ['', '?types=TaskCreated', '?from=2025-01-01']) {
      expect((await problem(state, stranger, `${path}${query}`, 404)).detail).toContain(task.id);
    }
    await problem(state, stranger, '/tasks/00000000-0000-4000-8000-000000000000/events', 404);
  });

  it('answers an empty page for a filter nothing matches on a task of the caller', async () => {
    const { orgId, path } = await taskWithHistory();
    expect(await page(state, orgId, `${path}?from=2030-01-01`)).toEqual({
      items: [],
      nextCursor: null,
      hasMore: false,
    });
  });

  it('answers 403 naming task:read-events to a token with task:read only', async () => {
    const { orgId, path } = await taskWithHistory();
    const response = await request(state, orgId, path, ['task:read', 'task:write']);
    const body = await expectStatus<{ detail: string }>(response, 403);
    expect(body.detail).toContain('task:read-events');
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  });

  it('answers a cursor problem as application/problem+json', async () => {
    const { orgId, path } = await taskWithHistory();
    const response = await request(state, orgId, `${path}?cursor=MS4uNDIuYWJj`);
    expect(response.status).toBe(400);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    const body = (await response.json()) as Problem;
    expect(body).toMatchObject({ status: 400, instance: `/api/v1${path}` });
    expect(body.correlationId).toBe(response.headers.get('X-Correlation-Id'));
  });
});
