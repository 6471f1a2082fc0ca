import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '@meridian/contracts/api/task-event';
import { actorOf, dispatchedExecution, report } from '../../../../../test/support/app-deps.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { retryTask } from '../../app/retry-task.js';
import { ConflictError } from '../../domain/errors.js';
import { appendEvents, freshOrg, ids, newTask, page, type TaskRef, useEventsApp } from './events.fixture.js';

const state = useEventsApp();

/** Deterministic spread of hold times and batch sizes, so that commits overlap out of order. */
const spread = (n: number, modulo: number) => (n * 7919) % modulo;

async function countEvents(where: { orgId: string; taskId?: string }): Promise<number> {
  const rows: { n: number }[] = await state.deps.dataSource.query(
    'SELECT count(*)::int AS n FROM task_events WHERE org_id = $1 AND ($2::uuid IS NULL OR task_id = $2)',
    [where.orgId, where.taskId ?? null],
  );
  return rows[0]!.n;
}

/**
 * Reads `path` page by page while `writing` runs, as a client following the log does: a full
 * page is kept and its cursor followed; a page that is not full is asked for again (from the same
 * cursor) until the writers are done and it holds every event left.
 */
async function follow(
  orgId: string,
  path: string,
  writing: Promise<unknown>,
  total: () => Promise<number>,
): Promise<{ seen: TaskEvent[]; fullPages: number }> {
  let done = false;
  const writers = writing.finally(() => {
    done = true;
  });
  const seen: TaskEvent[] = [];
  let cursor: string | null = null;
  let fullPages = 0;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const finished = done;
    const body = await page(state, orgId, `${path}?limit=5${cursor === null ? '' : `&cursor=${cursor}`}`);
    if (body.hasMore) {
      seen.push(...body.items);
      cursor = body.nextCursor;
      fullPages += 1;
      continue;
    }
    if (finished && seen.length + body.items.length === (await total())) {
      await writers;
      return { seen: [...seen, ...body.items], fullPages };
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`the log of ${path} did not settle: ${seen.length} events read`);
}

function expectNoGapNoRepeat(seen: readonly TaskEvent[], final: readonly string[]) {
  expect(new Set(ids(seen)).size).toBe(seen.length);
  expect(ids(seen)).toEqual(final);
}

describe('paging while events are appended', () => {
  it('a task’s log: reports, refused transitions and other writers of one task, in parallel', async () => {
    const run = await dispatchedExecution(state.deps);
    await recordAgentMessages(state.deps, [report('TaskAccepted', run, 1), report('TaskStarted', run, 2)]);
    const task: TaskRef = { id: run.taskId, orgId: run.orgId };
    const actor = actorOf(run.orgId);
    const progress = async (worker: number) => {
      for (let i = 0; i < 12; i += 1) {
        const sequence = 3 + worker * 100 + i; // some arrive after a higher one: ReportIgnored
        await recordAgentMessages(state.deps, [report('TaskProgress', run, sequence, { percent: i })]);
      }
    };
    const refusedRetries = async () => {
      for (let i = 0; i < 10; i += 1) {
        // A Running task cannot be retried: each refusal is a TransitionRejected event.
        await expect(retryTask(state.deps, actor, task.id)).rejects.toBeInstanceOf(ConflictError);
      }
    };
    const lockedWriters = async (worker: number) => {
      for (let i = 0; i < 10; i += 1) {
        const n = worker * 10 + i;
        const events = Array.from({ length: 1 + spread(n, 3) }, () => ({ type: 'TaskNote' }));
        await appendEvents(state.deps, task, events, spread(n, 12));
      }
    };
    const writing = Promise.all([
      progress(0),
      progress(1),
      refusedRetries(),
      lockedWriters(0),
      lockedWriters(1),
    ]);
    const path = `/tasks/${task.id}/events`;
    const { seen, fullPages } = await follow(run.orgId, path, writing, () =>
      countEvents({ orgId: run.orgId, taskId: task.id }),
    );
    const final: { id: string }[] = await state.deps.dataSource.query(
      'SELECT id FROM task_events WHERE task_id = $1 ORDER BY id',
      [task.id],
    );
    expectNoGapNoRepeat(
      seen,
      final.map((row) => row.id),
    );
    expect(seen.map((e) => e.eventType)).toEqual(
      expect.arrayContaining(['TransitionRejected', 'TaskProgress']),
    );
    expect(fullPages).toBeGreaterThan(5);
  });

  it('the organisation feed: transactions on several tasks committing out of order', async () => {
    const orgId = freshOrg();
    const tasks = await Promise.all(Array.from({ length: 4 }, () => newTask(state.deps, orgId)));
    const writer = async (worker: number) => {
      for (let i = 0; i < 15; i += 1) {
        const n = worker * 15 + i;
        const events = Array.from({ length: 1 + spread(n, 3) }, () => ({ type: 'TaskNote' }));
        // Long and short transactions interleave: a later transaction id often commits first.
        await appendEvents(state.deps, tasks[spread(n, tasks.length)]!, events, spread(n, 25));
      }
    };
    const writing = Promise.all(Array.from({ length: 3 }, (_, worker) => writer(worker)));
    const { seen, fullPages } = await follow(orgId, '/events', writing, () => countEvents({ orgId }));
    const final: { id: string }[] = await state.deps.dataSource.query(
      'SELECT id FROM task_events WHERE org_id = $1 ORDER BY tx_id, id',
      [orgId],
    );
    expectNoGapNoRepeat(
      seen,
      final.map((row) => row.id),
    );
    expect(fullPages).toBeGreaterThan(5);
  });
});
