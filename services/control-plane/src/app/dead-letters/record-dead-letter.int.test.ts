import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppDeps, dispatchedExecution } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { describeDeadLetter, type DeadLetterDelivery } from '../../domain/dead-letter-record.js';
import { purgeExpiredRecords } from '../purge-expired-records.js';
import { recordDeadLetter } from './record-dead-letter.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let ref: Awaited<ReturnType<typeof dispatchedExecution>>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  ref = await dispatchedExecution(deps);
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

function delivery(body: unknown, overrides: Partial<DeadLetterDelivery> = {}): DeadLetterDelivery {
  return {
    queue: 'q.agent-events.dead-letter',
    sourceExchange: 'q.agent-events',
    messageId: randomUUID(),
    type: 'TaskStarted',
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    receivedAt: deps.clock.now(),
    ...overrides,
  };
}

async function store(body: unknown, overrides: Partial<DeadLetterDelivery> = {}) {
  const record = describeDeadLetter(delivery(body, overrides), { bodyMaxBytes: 4096, headersMaxBytes: 8192 });
  const id = await recordDeadLetter(deps, record);
  const [row] = await deps.dataSource.query<{ org_id: string | null; reason: string; body: Buffer | null }[]>(
    `SELECT org_id, reason, body FROM dead_letters WHERE id = $1`,
    [id],
  );
  return row!;
}

describe('recordDeadLetter', () => {
  it.each([
    [
      'its execution',
      () => ({ nodeId: 'nobody', payload: { executionId: ref.executionId, orgId: 'claimed' } }),
    ],
    ['its task', () => ({ payload: { executionId: randomUUID(), taskId: ref.taskId, orgId: 'claimed' } })],
    ['its node', () => ({ nodeId: ref.nodeId, payload: { orgId: 'claimed' } })],
  ])('gives it the organisation of %s in the database, whatever the payload claims', async (_, body) => {
    expect((await store(body())).org_id).toBe(ref.orgId);
  });

  it.each([
    [
      'a payload orgId, when nothing in the database is named',
      { payload: { orgId: 'org-claimed' } },
      'org-claimed',
    ],
    ['nothing, for bytes that are not JSON', '\u0000\u0001 not json', null],
    [
      'nothing, for ids of the wrong shape',
      { nodeId: "'; DROP TABLE nodes; --", payload: { executionId: 'x' } },
      null,
    ],
  ])('gives it %s', async (_, body, orgId) => {
    expect((await store(body)).org_id).toBe(orgId);
  });

  it('stores what PostgreSQL cannot take in text once cleaned: NUL characters in reason, ids, headers', async () => {
    const row = await store('{}', {
      messageId: 'id\u0000',
      type: 'Task\u0000Started',
      correlationId: '\u0000',
      headers: { 'x-meridian-dead-letter-reason': 'nul\u0000here', 'k\u0000': { deep: ['\u0000'] } },
    });
    expect(row.reason).toBe('nul\uFFFDhere');
    expect(row.body).toEqual(Buffer.from('{}'));
  });

  it('is purged CLEANUP_RETENTION_DAYS after it was dead-lettered', async () => {
    const { messageId } = delivery({});
    await store({}, { messageId, receivedAt: new Date(deps.clock.now().getTime() - 31 * 86_400_000) });
    const count = async () =>
      Number(
        (
          await deps.dataSource.query<{ n: string }[]>(
            `SELECT count(*) AS n FROM dead_letters WHERE message_id = $1`,
            [messageId],
          )
        )[0]!.n,
      );
    expect(await count()).toBe(1);
    await purgeExpiredRecords(deps, 30, 1000);
    expect(await count()).toBe(0);
  });
});
