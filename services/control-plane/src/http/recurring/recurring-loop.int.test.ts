// First: @hono/zod-openapi adds `.openapi()` to zod schemas built after it (the contracts' too).
import '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import type { RecurringTask } from '@meridian/contracts/api/recurring';
import type { Task } from '@meridian/contracts/api/task';
import {
  call,
  clock,
  createRecurring,
  deps,
  freshOrg,
  getRecurring,
  json,
  sweepAll,
  tasksOf,
  useRecurringFixture,
} from './recurring.fixture.js';

useRecurringFixture();

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface StoredOccurrence {
  scheduled_for: Date;
  outcome: string;
  task_id: string | null;
  skip_reason: string | null;
}

async function occurrencesOf(recurringTaskId: string): Promise<StoredOccurrence[]> {
  return deps().dataSource.query(
    `SELECT scheduled_for, outcome, task_id, skip_reason FROM recurring_occurrences
      WHERE recurring_task_id = $1 ORDER BY scheduled_for`,
    [recurringTaskId],
  );
}

async function cancelTask(orgId: string, taskId: string): Promise<void> {
  await json<Task>(await call('DELETE', `/tasks/${taskId}`, { orgId }), 200);
}

describe('the recurring loop', () => {
  it('with three replicas racing, each occurrence of a per-second schedule creates exactly one task for a minute', async () => {
    const orgId = freshOrg();
    const recurring = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        createRecurring(orgId, { name, schedule: '* * * * * *', overlap: 'allow' }),
      ),
    );
    const first = new Date(recurring[0]!.nextRunAt!).getTime();
    for (let second = 0; second < 60; second += 1) {
      clock.set(new Date(first + second * 1000 + 250));
      await sweepAll();
    }
    const expected = Array.from({ length: 60 }, (_, second) => iso(first + second * 1000));
    for (const { id } of recurring) {
      const tasks = await tasksOf(id);
      expect(tasks.map((task) => task.occurrence)).toEqual(expected);
      expect(new Set(tasks.map((task) => task.id)).size).toBe(60);
      expect(tasks.every((task) => task.status === 'Pending' && task.trigger_type === 'recurring')).toBe(
        true,
      );
      const shown = await getRecurring(orgId, id);
      expect(shown).toMatchObject({ lastRunAt: expected.at(-1), nextRunAt: iso(first + 60_000) });
      expect(shown.recentOccurrences).toHaveLength(20);
      expect(shown.recentOccurrences[0]).toMatchObject({ scheduledFor: expected.at(-1), outcome: 'created' });
      await json<undefined>(await call('DELETE', `/tasks/recurring/${id}`, { orgId }), 204);
    }
  });

  it('creates no second task for an occurrence already fired, when its next run is stale', async () => {
    const orgId = freshOrg();
    const recurring = await createRecurring(orgId, { overlap: 'allow' });
    const first = new Date(recurring.nextRunAt!).getTime();
    clock.set(new Date(first + 1000));
    await sweepAll();
    // As if a replica had fired it without its next run being moved on.
    await deps().dataSource.query(`UPDATE recurring_tasks SET next_run_at = $2 WHERE id = $1`, [
      recurring.id,
      new Date(first),
    ]);
    await sweepAll();
    expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual([iso(first)]);
    expect((await getRecurring(orgId, recurring.id)).nextRunAt).toBe(iso(first + HOUR));
  });

  describe('misfire policies after a downtime of three and a half hours', () => {
    async function afterDowntime(body: Record<string, unknown>) {
      const orgId = freshOrg();
      const recurring = await createRecurring(orgId, { overlap: 'allow', ...body });
      const first = new Date(recurring.nextRunAt!).getTime();
      clock.set(new Date(first + 3.5 * HOUR));
      await sweepAll();
      return { orgId, recurring, first, missed: [0, 1, 2, 3].map((hours) => iso(first + hours * HOUR)) };
    }

    it('skip: fires none of the missed occurrences, records them, next run in the future', async () => {
      const { orgId, recurring, first, missed } = await afterDowntime({ misfire: 'skip' });
      expect(await tasksOf(recurring.id)).toEqual([]);
      const occurrences = await occurrencesOf(recurring.id);
      expect(occurrences.map((o) => [o.scheduled_for.toISOString(), o.outcome, o.skip_reason])).toEqual(
        missed.map((at) => [at, 'skipped', 'misfire']),
      );
      expect(await getRecurring(orgId, recurring.id)).toMatchObject({
        nextRunAt: iso(first + 4 * HOUR),
        lastTaskId: null,
      });
    });

    it('fire-once (the default): one task, for the latest missed occurrence', async () => {
      const { orgId, recurring, missed } = await afterDowntime({});
      const tasks = await tasksOf(recurring.id);
      expect(tasks.map((task) => task.occurrence)).toEqual([missed[3]]);
      const skipped = (await occurrencesOf(recurring.id)).filter((o) => o.outcome === 'skipped');
      expect(skipped.map((o) => o.scheduled_for.toISOString())).toEqual(missed.slice(0, 3));
      expect(await getRecurring(orgId, recurring.id)).toMatchObject({
        lastTaskId: tasks[0]!.id,
        lastRunAt: missed[3],
      });
    });

    it('fire-all: one task per missed occurrence, in order', async () => {
      const { recurring, missed } = await afterDowntime({ misfire: 'fire-all' });
      expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual(missed);
    });

    it('fire-all fires the latest 100 missed occurrences at most, and the on-time ones', async () => {
      const { recurring, first } = await afterDowntime({ misfire: 'fire-all', schedule: '* * * * *' });
      const now = first + 3.5 * HOUR;
      const tasks = await tasksOf(recurring.id);
      // On time (within the 60 s grace): the minutes at now and a minute before; then 100 missed.
      expect(tasks).toHaveLength(102);
      expect(tasks.at(-1)!.occurrence).toBe(iso(now));
      expect(tasks[0]!.occurrence).toBe(iso(now - 101 * 60_000));
    });

    it('an occurrence within the grace is on time: fire-once fires it and skips the missed ones', async () => {
      const orgId = freshOrg();
      const recurring = await createRecurring(orgId, {});
      const first = new Date(recurring.nextRunAt!).getTime();
      clock.set(new Date(first + 2 * HOUR + 10_000));
      await sweepAll();
      expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual([iso(first + 2 * HOUR)]);
      const skipped = (await occurrencesOf(recurring.id)).filter((o) => o.skip_reason === 'misfire');
      expect(skipped.map((o) => o.scheduled_for.toISOString())).toEqual([iso(first), iso(first + HOUR)]);
    });
  });

  it('overlap skip: an occurrence while the previous task has not finished is skipped and recorded', async () => {
    const orgId = freshOrg();
    const recurring = await createRecurring(orgId, {});
    const first = new Date(recurring.nextRunAt!).getTime();
    clock.set(new Date(first + 1000));
    await sweepAll();
    const [firstTask] = await tasksOf(recurring.id);
    clock.set(new Date(first + HOUR + 1000));
    await sweepAll();
    expect(await tasksOf(recurring.id)).toHaveLength(1);
    await cancelTask(orgId, firstTask!.id);
    clock.set(new Date(first + 2 * HOUR + 1000));
    await sweepAll();
    const tasks = await tasksOf(recurring.id);
    expect(tasks.map((task) => task.occurrence)).toEqual([iso(first), iso(first + 2 * HOUR)]);
    const shown = await getRecurring(orgId, recurring.id);
    expect(
      shown.recentOccurrences.map((o) => [o.scheduledFor, o.outcome, o.taskStatus, o.skipReason]),
    ).toEqual([
      [iso(first + 2 * HOUR), 'created', 'Pending', null],
      [iso(first + HOUR), 'skipped', null, 'overlap'],
      [iso(first), 'created', 'Cancelled', null],
    ]);
    expect(shown).toMatchObject({ lastTaskId: tasks[1]!.id, nextRunAt: iso(first + 3 * HOUR) });
  });

  it('overlap queue: the occurrence waits for the previous task, then fires', async () => {
    const orgId = freshOrg();
    const recurring = await createRecurring(orgId, { overlap: 'queue' });
    const first = new Date(recurring.nextRunAt!).getTime();
    clock.set(new Date(first + 1000));
    await sweepAll();
    const [firstTask] = await tasksOf(recurring.id);
    clock.set(new Date(first + HOUR + 1000));
    await sweepAll();
    expect(await tasksOf(recurring.id)).toHaveLength(1);
    expect((await getRecurring(orgId, recurring.id)).nextRunAt).toBe(iso(first + HOUR));
    await cancelTask(orgId, firstTask!.id);
    clock.advance(20_000);
    await sweepAll();
    expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual([
      iso(first),
      iso(first + HOUR),
    ]);
    expect((await getRecurring(orgId, recurring.id)).nextRunAt).toBe(iso(first + 2 * HOUR));
  });

  it('a disabled recurring task fires nothing, created so or disabled later', async () => {
    const orgId = freshOrg();
    const disabled = await createRecurring(orgId, { enabled: false, schedule: '* * * * *' });
    const enabled = await createRecurring(orgId, { schedule: '* * * * *' });
    await json<RecurringTask>(
      await call('PATCH', `/tasks/recurring/${enabled.id}`, { orgId, body: { enabled: false } }),
      200,
    );
    clock.advance(2 * HOUR);
    await sweepAll();
    for (const { id } of [disabled, enabled]) {
      expect(await tasksOf(id)).toEqual([]);
      expect(await occurrencesOf(id)).toEqual([]);
    }
  });

  it('PATCH moves the next run: the new schedule fires, the old one no longer does', async () => {
    const orgId = freshOrg();
    const recurring = await createRecurring(orgId, { schedule: '0 3 * * *', timezone: 'UTC' });
    const changed = await json<RecurringTask>(
      await call('PATCH', `/tasks/recurring/${recurring.id}`, { orgId, body: { schedule: '*/10 * * * *' } }),
      200,
    );
    const next = new Date(changed.nextRunAt!).getTime();
    clock.set(new Date(next + 1000));
    await sweepAll();
    expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual([iso(next)]);
  });

  it.each([
    // 2026-03-08: 02:30 does not exist in New York; it runs at 03:30 EDT (07:30Z), once.
    [
      'a 02:30 New York job on the spring-forward night',
      '30 2 * * *',
      '2026-03-07T12:00:00Z',
      ['2026-03-08T07:30:00.000Z'],
    ],
    // 2026-11-01: 01:30 happens twice in New York; it runs at the first, 01:30 EDT (05:30Z), only.
    [
      'a 01:30 New York job on the fall-back night',
      '30 1 * * *',
      '2026-10-31T12:00:00Z',
      ['2026-11-01T05:30:00.000Z'],
    ],
  ])('DST: %s runs once', async (_name, schedule, createdAt, expected) => {
    const orgId = freshOrg();
    clock.set(new Date(createdAt));
    const recurring = await createRecurring(orgId, { schedule, timezone: 'America/New_York' });
    // Every ten minutes through the night, as the loop would see it.
    const start = Date.parse(createdAt);
    for (let at = start; at <= start + 24 * HOUR; at += 600_000) {
      clock.set(new Date(at));
      await sweepAll();
    }
    expect((await tasksOf(recurring.id)).map((task) => task.occurrence)).toEqual(expected);
  });
});
