import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task, TaskList } from '@meridian/contracts/api/task';
import { createTestAppDeps } from '../../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { purgeExpiredRecords } from '../../app/purge-expired-records.js';
import { createAuthenticator } from '../auth.js';
import { createApp } from '../create-app.js';
import { signTestToken, TEST_SECRET } from '../test-tokens.js';

const database = useTestDatabase();
let deps: Awaited<ReturnType<typeof createTestAppDeps>>;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  deps = await createTestAppDeps(database.url);
  app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });
});
afterAll(async () => {
  await deps.dataSource.destroy();
});

const freshOrg = () => `org-${randomUUID().slice(0, 8)}`;
const freshKey = () => `key-${randomUUID()}`;
const taskBody = (overrides: Record<string, unknown> = {}) => ({
  type: 'Echo',
  name: 'echo',
  targetType: 'Service',
  targetId: 'target-1',
  payload: { words: ['a', 'b'], n: 1 },
  ...overrides,
});

async function post(orgId: string, body: unknown, headers: Record<string, string>, rawBody?: string) {
  const token = await signTestToken({ orgId });
  return app.request('/api/v1/tasks', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
    body: rawBody ?? JSON.stringify(body),
  });
}

async function tasksOf(orgId: string): Promise<Task[]> {
  const token = await signTestToken({ orgId });
  const response = await app.request('/api/v1/tasks?limit=100', {
    headers: { Authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as TaskList).items;
}

describe('POST /api/v1/tasks with an idempotency key', () => {
  it('answers a repeat with the first response again, marked replayed, and creates one task', async () => {
    const orgId = freshOrg();
    const key = freshKey();
    const first = await post(orgId, taskBody(), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    const created = (await first.json()) as Task;

    deps.clock.advance(60_000);
    // Same body in another key order and spacing, under the synonym header of seed 000.
    const again = await post(
      orgId,
      undefined,
      { 'X-Idempotency-Key': key },
      ` {"payload": {"n": 1, "words": ["a","b"]},
      "targetId": "target-1", "targetType": "Service", "name": "echo", "type": "Echo"} `,
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.headers.get('Location')).toBe(`/api/v1/tasks/${created.id}`);
    expect(await again.json()).toEqual(created);
    expect((await tasksOf(orgId)).map((task) => task.id)).toEqual([created.id]);
  });

  it('refuses the key with another body (422), and leaves the first task alone', async () => {
    const orgId = freshOrg();
    const key = freshKey();
    const created = (await (await post(orgId, taskBody(), { 'Idempotency-Key': key })).json()) as Task;
    const other = await post(orgId, taskBody({ name: 'other' }), { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = (await other.json()) as Problem;
    expect(problem).toMatchObject({ status: 422, errors: [{ field: 'Idempotency-Key' }] });
    expect(problem.detail).toMatch(/different request body/);
    expect((await tasksOf(orgId)).map((task) => task.id)).toEqual([created.id]);
  });

  it('keeps keys apart by organisation', async () => {
    const key = freshKey();
    const [orgA, orgB] = [freshOrg(), freshOrg()];
    const a = (await (await post(orgA, taskBody(), { 'Idempotency-Key': key })).json()) as Task;
    const responseB = await post(orgB, taskBody(), { 'Idempotency-Key': key });
    expect(responseB.headers.get('Idempotent-Replayed')).toBeNull();
    const b = (await responseB.json()) as Task;
    expect(b.id).not.toBe(a.id);
    expect(b.orgId).toBe(orgB);
  });

  it.each([
    ['Idempotency-Key', 'has space', 'header.Idempotency-Key'],
    ['Idempotency-Key', 'k'.repeat(256), 'header.Idempotency-Key'],
    ['X-Idempotency-Key', 'quote"inside', 'header.X-Idempotency-Key'],
  ])('refuses %s %j with a 400 naming %s, and creates nothing', async (header, value, field) => {
    const orgId = freshOrg();
    const response = await post(orgId, taskBody(), { [header]: value });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as Problem;
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await tasksOf(orgId)).toEqual([]);
  });

  it('refuses two different keys in the two headers (400)', async () => {
    const response = await post(freshOrg(), taskBody(), { 'Idempotency-Key': 'a', 'X-Idempotency-Key': 'b' });
    expect(response.status).toBe(400);
  });

  it('creates one task when 20 identical requests race, and answers all 20 alike', async () => {
    const orgId = freshOrg();
    const key = freshKey();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(orgId, taskBody(), { 'Idempotency-Key': key })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(bodies).size).toBe(1);
    const replayed = responses.filter((response) => response.headers.get('Idempotent-Replayed') === 'true');
    expect(replayed).toHaveLength(19);
    const tasks = await tasksOf(orgId);
    expect(tasks.map((task) => task.id)).toEqual([(JSON.parse(bodies[0]!) as Task).id]);
  });

  it('creates one task when requests with two bodies race on one key: one body wins, the other is 422', async () => {
    const orgId = freshOrg();
    const key = freshKey();
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        post(orgId, taskBody({ name: index % 2 === 0 ? 'even' : 'odd' }), { 'Idempotency-Key': key }),
      ),
    );
    const tasks = await tasksOf(orgId);
    expect(tasks).toHaveLength(1);
    const winner = tasks[0]!.name;
    for (const [index, response] of responses.entries()) {
      const name = index % 2 === 0 ? 'even' : 'odd';
      expect(response.status).toBe(name === winner ? 201 : 422);
    }
  });

  it('forgets a key after 24 hours: the retention sweep deletes it, and the key creates anew', async () => {
    const orgId = freshOrg();
    const key = freshKey();
    const first = (await (await post(orgId, taskBody(), { 'Idempotency-Key': key })).json()) as Task;
    deps.clock.advance(24 * 3600_000 - 1000);
    expect(((await (await post(orgId, taskBody(), { 'Idempotency-Key': key })).json()) as Task).id).toBe(
      first.id,
    );

    deps.clock.advance(2000);
    // Expired but not yet swept: taken over by the next request.
    const second = await post(orgId, taskBody({ name: 'later' }), { 'Idempotency-Key': key });
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBeNull();
    expect(((await second.json()) as Task).id).not.toBe(first.id);

    const countKeys = async () => {
      const [row] = await deps.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM idempotency_keys WHERE org_id = $1`,
        [orgId],
      );
      return Number(row!.n);
    };
    expect(await countKeys()).toBe(1);
    deps.clock.advance(24 * 3600_000);
    await purgeExpiredRecords(deps, 30, 1000);
    expect(await countKeys()).toBe(0);
  });
});
