import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf, createTestAppDeps, ManualClock } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import type { TriggerLimits } from '../domain/rate-limit-policy.js';
import { RateLimitedError } from '../domain/rate-limited-error.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { purgeExpiredRecords } from './purge-expired-records.js';
import { consumeTriggerLimits } from './trigger-limits.js';

const database = useTestDatabase();
// Two control-plane replicas: each its own connection pool on the one database.
let replicaA: AppDeps;
let replicaB: AppDeps;

beforeAll(async () => {
  replicaA = await createTestAppDeps(database.url);
  replicaB = await createTestAppDeps(database.url);
});
afterAll(async () => {
  await replicaA.dataSource.destroy();
  await replicaB.dataSource.destroy();
});

const DEFAULTS: TriggerLimits = {
  perUserPerHour: 1000,
  perTaskPerHour: 100,
  perOrgPerHour: 5000,
  systemPerMinute: 10_000,
};

let days = 0;
/**
 * An org of its own and a clock on a day of its own (at `time` UTC), shared by both replicas: the
 * system counter is the one all orgs share, and no other test counts into this test's windows.
 */
function scope(limits: Partial<TriggerLimits> = {}, time = '12:20:30') {
  days += 1;
  const clock = new ManualClock(new Date(Date.parse(`2030-01-01T${time}.000Z`) + days * 86_400_000));
  const triggerLimits = { ...DEFAULTS, ...limits };
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  return {
    clock,
    orgId,
    actor: actorOf(orgId),
    a: { ...replicaA, clock, triggerLimits },
    b: { ...replicaB, clock, triggerLimits },
  };
}

/** The caller and task ids of the `i`-th call of a test. */
type CallOf = (s: ReturnType<typeof scope>, i: number) => [Actor, string[]];

const tasks = (count: number) => Array.from({ length: count }, () => randomUUID());

async function refusal(call: Promise<unknown>): Promise<RateLimitedError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
}

/** The counters of one org (its users, tasks and itself), as `limit subject` → hits. */
async function countersOf(deps: AppDeps, orgId: string): Promise<Record<string, number>> {
  const rows = await deps.dataSource.query<{ limit_name: string; subject: string; hits: number }[]>(
    `SELECT limit_name, subject, hits FROM rate_limit_windows WHERE subject = $1 OR subject LIKE $1 || ':%'`,
    [orgId],
  );
  return Object.fromEntries(rows.map((r) => [`${r.limit_name} ${r.subject}`, r.hits]));
}

describe('consumeTriggerLimits', () => {
  it('counts a call on every limit and answers the header values of the tightest', async () => {
    const { a, actor, orgId } = scope();
    const [task] = tasks(1);
    const status = await consumeTriggerLimits(a, actor, [task!]);
    // 12:20:30: the hour ends in 2370 s.
    expect(status).toEqual({
      name: 'per-task',
      limit: 100,
      remaining: 99,
      resetSeconds: 2370,
      windowSeconds: 3600,
    });
    expect(await countersOf(a, orgId)).toEqual({
      [`per-user ${orgId}:user-1`]: 1,
      [`per-task ${orgId}:${task}`]: 1,
      [`per-org ${orgId}`]: 1,
    });
  });

  const cases: [string, Partial<TriggerLimits>, CallOf][] = [
    // each call by another user on another task: only the org and the system add up
    ['per-user', { perUserPerHour: 3 }, (s) => [s.actor, tasks(1)]],
    ['per-task', { perTaskPerHour: 3 }, (s) => [s.actor, [`${s.orgId}-task`]]],
    ['per-org', { perOrgPerHour: 3 }, (s, i) => [{ ...s.actor, userId: `user-${i}` }, tasks(1)]],
    ['system', { systemPerMinute: 3 }, (s, i) => [actorOf(`${s.orgId}-${i}`), tasks(1)]],
  ];
  it.each(cases)('refuses the call past a %s limit of 3, naming it', async (name, limits, callOf) => {
    const s = scope(limits);
    for (let i = 0; i < 3; i += 1) await consumeTriggerLimits(i % 2 ? s.b : s.a, ...callOf(s, i));
    const error = await refusal(consumeTriggerLimits(s.a, ...callOf(s, 3)));
    const perMinute = name === 'system';
    expect(error).toMatchObject({
      code: 'rate_limited',
      limitName: name,
      limit: 3,
      windowSeconds: perMinute ? 60 : 3600,
      retryAfterSeconds: perMinute ? 30 : 2370,
      exceeded: { used: 3, requested: 1, status: { limit: 3, remaining: 0 } },
    });
    expect(error.message).toMatch(
      new RegExp(`^${name} trigger limit of 3 per ${perMinute ? 'minute' : 'hour'} reached`),
    );
  });

  it('counts a bulk call once per item: n for the user, per task its own items', async () => {
    const { a, actor, orgId } = scope({ perTaskPerHour: 3 });
    const [t1, t2] = tasks(2);
    const status = await consumeTriggerLimits(a, actor, [t1!, t2!, t1!, t1!]);
    expect(status).toMatchObject({ name: 'per-task', limit: 3, remaining: 0 });
    expect(await countersOf(a, orgId)).toEqual({
      [`per-user ${orgId}:user-1`]: 4,
      [`per-task ${orgId}:${t1}`]: 3,
      [`per-task ${orgId}:${t2}`]: 1,
      [`per-org ${orgId}`]: 4,
    });
  });

  it('counts nothing of a refused call (all limits or none)', async () => {
    const { a, actor, orgId } = scope({ perTaskPerHour: 2 });
    const [t1, t2] = tasks(2);
    await consumeTriggerLimits(a, actor, [t1!]);
    const error = await refusal(consumeTriggerLimits(a, actor, [t1!, t1!, t2!]));
    expect(error).toMatchObject({ limitName: 'per-task', exceeded: { taskId: t1, used: 1, requested: 2 } });
    expect(error.message).toContain(`for task ${t1}`);
    expect(await countersOf(a, orgId)).toEqual({
      [`per-user ${orgId}:user-1`]: 1,
      [`per-task ${orgId}:${t1}`]: 1,
      [`per-org ${orgId}`]: 1,
    });
    await consumeTriggerLimits(a, actor, [t2!, t2!]); // t2 has both its hits left
  });

  it('opens a new window at the top of the hour (injected clock)', async () => {
    const { a, clock, actor } = scope({ perUserPerHour: 2 }, '12:59:30');
    await consumeTriggerLimits(a, actor, tasks(2));
    expect((await refusal(consumeTriggerLimits(a, actor, tasks(1)))).retryAfterSeconds).toBe(30);
    clock.advance(29_999);
    expect((await refusal(consumeTriggerLimits(a, actor, tasks(1)))).retryAfterSeconds).toBe(1);
    clock.advance(1);
    expect(await consumeTriggerLimits(a, actor, tasks(1))).toMatchObject({
      name: 'per-user',
      remaining: 1,
      resetSeconds: 3600,
    });
  });

  it('opens a new system window each minute', async () => {
    const { a, clock, actor } = scope({ systemPerMinute: 1 }, '08:15:59');
    await consumeTriggerLimits(a, actor, tasks(1));
    expect((await refusal(consumeTriggerLimits(a, actor, tasks(1)))).retryAfterSeconds).toBe(1);
    clock.advance(1000);
    await consumeTriggerLimits(a, actor, tasks(1));
  });

  it('never counts another org’s task for the caller’s org, nor the caller against it', async () => {
    const s = scope({ perTaskPerHour: 1 });
    const other = actorOf(`${s.orgId}-other`);
    const [task] = tasks(1);
    await consumeTriggerLimits(s.a, s.actor, [task!]);
    await consumeTriggerLimits(s.a, other, [task!]);
    await refusal(consumeTriggerLimits(s.b, s.actor, [task!]));
  });
});

describe('two replicas under concurrency', () => {
  const shared: [string, Partial<TriggerLimits>, CallOf][] = [
    ['per-task', { perTaskPerHour: 25 }, (s) => [s.actor, [`${s.orgId}-task`]]],
    ['system', { systemPerMinute: 25 }, (s) => [actorOf(`${s.orgId}-${randomUUID()}`), tasks(1)]],
  ];
  it.each(shared)(
    'share a %s limit of 25 exactly: 25 of 60 concurrent calls pass',
    async (name, limits, callOf) => {
      const s = scope(limits);
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => consumeTriggerLimits(i % 2 ? s.b : s.a, ...callOf(s, i))),
      );
      const passed = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
      expect(passed).toHaveLength(25);
      expect(refused).toHaveLength(35);
      for (const reason of refused) expect(reason).toMatchObject({ code: 'rate_limited', limitName: name });
      const remaining = passed.map((r) => r.value.remaining).sort((x, y) => x - y);
      expect(remaining).toEqual(Array.from({ length: 25 }, (_, i) => i)); // each pass saw its own count
    },
  );

  it('share a per-user limit exactly under bulk calls, and count nothing of those refused', async () => {
    const s = scope({ perUserPerHour: 50 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => consumeTriggerLimits(i % 2 ? s.b : s.a, s.actor, tasks(7))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7); // 7 × 7 = 49 ≤ 50 < 56
    const counters = await countersOf(s.a, s.orgId);
    expect(counters[`per-user ${s.orgId}:user-1`]).toBe(49);
    expect(counters[`per-org ${s.orgId}`]).toBe(49);
    expect(Object.keys(counters).filter((key) => key.startsWith('per-task'))).toHaveLength(49);
  });

  it('do not deadlock when calls name the same tasks in different orders', async () => {
    const s = scope();
    const shared = tasks(6);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => {
        const order = i % 2 ? [...shared].reverse() : [...shared.slice(3), ...shared.slice(0, 3)];
        return consumeTriggerLimits(i % 4 < 2 ? s.a : s.b, { ...s.actor, userId: `user-${i}` }, order);
      }),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const counters = await countersOf(s.a, s.orgId);
    for (const task of shared) expect(counters[`per-task ${s.orgId}:${task}`]).toBe(40);
    expect(counters[`per-org ${s.orgId}`]).toBe(240);
  });
});

describe('retention', () => {
  it('purges a window’s counters a few minutes after it ended, not before', async () => {
    const { a, clock, actor, orgId } = scope({}, '12:30:00');
    await consumeTriggerLimits(a, actor, tasks(1));
    clock.advance(30 * 60_000 + 5 * 60_000 - 1); // 13:04:59.999: the hourly rows are kept
    await purgeExpiredRecords(a, 30, 1000);
    expect(Object.keys(await countersOf(a, orgId))).toHaveLength(3);
    clock.advance(1);
    await purgeExpiredRecords(a, 30, 1000);
    expect(await countersOf(a, orgId)).toEqual({});
  });
});
