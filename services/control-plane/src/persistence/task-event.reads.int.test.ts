import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventQuerySchema } from '@meridian/contracts/api/task-event';
import { createTestAppDeps } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { eventFilterOf } from '../domain/event-filter.js';
import {
  selectOrgEvents,
  selectOrgEventsOfRange,
  type OrgEventSelection,
  type TaskEventRow,
} from './task-event.reads.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
const ORG = 'org-plans';
const ROWS = 600;

interface Row {
  id: string;
  txId: bigint;
  type: string;
  actor: string;
  occurredAt: number;
}
let rows: Row[] = [];

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  // Transaction ids, ids and times in three unrelated orders; ids below any running transaction.
  await deps.dataSource.query(
    `INSERT INTO task_events (org_id, task_id, type, actor, correlation_id, occurred_at, tx_id)
     SELECT $1, md5('task' || (i % 5))::uuid, (ARRAY['TaskCreated','TaskTriggered','TaskRescheduled','TaskFailed'])[1 + i % 4],
            (ARRAY['user:alice','user:bob','node:n-1'])[1 + i % 3], 'c',
            timestamptz '2025-01-01T00:00:00Z' + ((i * 7919) % 500) * interval '1 minute',
            (3 + (i * 31) % 97)::text::xid8
       FROM generate_series(0, $2 - 1) AS i`,
    [ORG, ROWS],
  );
  await deps.dataSource.query(
    `INSERT INTO task_events (org_id, task_id, type, actor, correlation_id, occurred_at)
     VALUES ('org-elsewhere', md5('x')::uuid, 'TaskCreated', 'user:alice', 'c', '2025-01-01T01:00:00Z')`,
  );
  const stored: { id: string; tx: string; type: string; actor: string; at: Date }[] =
    await deps.dataSource.query(
      'SELECT id, tx_id::text AS tx, type, actor, occurred_at AS at FROM task_events WHERE org_id = $1',
      [ORG],
    );
  rows = stored.map((r) => ({
    id: r.id,
    txId: BigInt(r.tx),
    type: r.type,
    actor: r.actor,
    occurredAt: +r.at,
  }));
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

/** The feed as the specification says: filtered, in (tx_id, id) order. */
function expected(query: Record<string, string>): string[] {
  const filter = eventFilterOf(EventQuerySchema.parse(query));
  return rows
    .filter((r) => filter.types === null || filter.types.includes(r.type))
    .filter((r) => filter.actor === null || r.actor === filter.actor)
    .filter((r) => filter.from === null || r.occurredAt >= Date.parse(filter.from))
    .filter((r) => {
      if (filter.to === null) return true;
      const to = Date.parse(filter.to.at);
      return filter.to.inclusive ? r.occurredAt <= to : r.occurredAt < to;
    })
    .sort((a, b) => (a.txId === b.txId ? Number(BigInt(a.id) - BigInt(b.id)) : a.txId < b.txId ? -1 : 1))
    .map((r) => r.id);
}

type Plan = 'feed' | 'range';

async function readAll(query: Record<string, string>, plan: Plan): Promise<string[]> {
  const filter = eventFilterOf(EventQuerySchema.parse(query));
  const seen: string[] = [];
  let after: OrgEventSelection['after'] = null;
  for (;;) {
    const selection: OrgEventSelection = { orgId: ORG, filter, after, limit: 7 };
    const page: TaskEventRow[] | null =
      plan === 'feed'
        ? await selectOrgEvents(deps.dataSource, selection)
        : await selectOrgEventsOfRange(deps.dataSource, selection, ROWS);
    if (page === null) throw new Error('the range plan gave up');
    seen.push(...page.map((row) => row.id));
    const last = page.at(-1);
    if (page.length < 7 || !last) return seen;
    after = { txId: last.txId, id: last.id };
  }
}

describe('the two ways of reading the organisation feed', () => {
  it.each([
    [{}],
    [{ from: '2025-01-01T03:00:00Z', to: '2025-01-01T04:00:00Z' }],
    [{ from: '2025-01-01T05:00:00+01:00' }],
    [{ to: '2025-01-01T02:30:00Z' }],
    [{ from: '2025-01-01', to: '2025-01-01' }],
    [{ types: 'TaskTriggered,TaskFailed', from: '2025-01-01T01:00:00Z', to: '2025-01-01T07:00:00Z' }],
    [{ actor: 'user:bob', from: '2025-01-01T02:00:00Z' }],
    [{ types: 'TaskRescheduled', actor: 'node:n-1', to: '2025-01-01T06:00:00Z' }],
  ])('answer the same pages, in feed order, for %j', async (query: Record<string, string>) => {
    const want = expected(query);
    expect(want.length).toBeGreaterThan(7); // more than one page

    expect(await readAll(query, 'feed')).toEqual(want);
    if ('from' in query || 'to' in query) expect(await readAll(query, 'range')).toEqual(want);
  });

  it('answer an empty page for a range nothing falls in', async () => {
    expect(await readAll({ from: '2026-01-01' }, 'feed')).toEqual([]);
    expect(await readAll({ from: '2026-01-01' }, 'range')).toEqual([]);
  });

  it('gives the range way up when the range holds more matching events than allowed', async () => {
    const filter = eventFilterOf(
      EventQuerySchema.parse({
        from: '2025-01-01T00:00:00Z',
        to: '2025-01-01T01:00:00Z',
        types: 'TaskFailed',
      }),
    );
    const matching = expected({
      from: '2025-01-01T00:00:00Z',
      to: '2025-01-01T01:00:00Z',
      types: 'TaskFailed',
    });
    const selection = { orgId: ORG, filter, after: null, limit: 5 };
    expect(await selectOrgEventsOfRange(deps.dataSource, selection, matching.length - 1)).toBeNull();
    const page = await selectOrgEventsOfRange(deps.dataSource, selection, matching.length);
    expect(page?.map((row) => row.id)).toEqual(matching.slice(0, 5));
  });
});
