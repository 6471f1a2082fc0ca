import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Problem } from '@meridian/contracts/api/problem';
import type { TriggerResponse } from '@meridian/contracts/api/task-run';
import { purgeExpiredRecords } from '../../app/purge-expired-records.js';
import {
  call,
  completedTask,
  createTask,
  deps,
  dispatch,
  eventsOf,
  executionsOf,
  finish,
  json,
  runsOf,
  useRunsFixture,
} from './runs.fixture.js';

useRunsFixture();

const freshKey = () => `key-${randomUUID()}`;

function trigger(
  orgId: string,
  taskId: string,
  key: string,
  options: { body?: unknown; rawBody?: string; header?: string; route?: 'trigger' | 'execute' } = {},
) {
  return call(orgId, 'POST', `/tasks/${taskId}/${options.route ?? 'trigger'}`, {
    body: options.body,
    rawBody: options.rawBody,
    headers: { [options.header ?? 'X-Idempotency-Key']: key },
  });
}

describe('POST /api/v1/tasks/{id}/trigger with an idempotency key', () => {
  it('answers a repeat with the same bytes, marked replayed, and starts nothing new', async () => {
    const { org, task } = await completedTask();
    const key = freshKey();
    const body = { context: { b: 2, a: [1, { c: 3 }] }, triggerReason: 'deploy' };
    const first = await trigger(org.orgId, task.id, key, { body });
    const firstText = await first.text();
    expect(first.status, firstText).toBe(202);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    const accepted = JSON.parse(firstText) as TriggerResponse;
    await dispatch();
    deps.clock.advance(60_000);

    // The same request in another key order and spacing, under the other header, on the other route.
    const again = await trigger(org.orgId, task.id, key, {
      rawBody: ` {"triggerReason": "deploy", "context": {"a": [1, {"c": 3}], "b": 2}, "queue": false} `,
      header: 'Idempotency-Key',
      route: 'execute',
    });
    expect(again.status).toBe(202);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.headers.get('Location')).toBe(first.headers.get('Location'));
    expect(await again.text()).toBe(firstText);
    expect(await runsOf(task.id)).toHaveLength(2);
    expect(await executionsOf(task.id)).toHaveLength(2);
    expect((await eventsOf(org.orgId, task.id)).filter((e) => e.type === 'TaskTriggered')).toHaveLength(1);
    expect(accepted.runNumber).toBe(2);
  });

  it('records the key on the run and in the TaskTriggered event', async () => {
    const { org, task } = await completedTask();
    const key = freshKey();
    const accepted = await json<TriggerResponse>(await trigger(org.orgId, task.id, key), 202);
    expect((await runsOf(task.id))[1]).toMatchObject({
      idempotencyKey: key,
      firstExecutionId: accepted.executionId,
    });
    const triggered = (await eventsOf(org.orgId, task.id)).find((e) => e.type === 'TaskTriggered');
    expect(triggered?.metadata).toMatchObject({ idempotencyKey: key, runNumber: 2 });
  });

  it('starts one run and one execution when 20 identical requests race, and answers all 20 alike', async () => {
    const { org, task } = await completedTask();
    const key = freshKey();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        trigger(org.orgId, task.id, key, { body: { context: { race: true } } }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(202));
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('Idempotent-Replayed') === 'true')).toHaveLength(19);
    expect(await runsOf(task.id)).toHaveLength(2);
    expect(await dispatch()).toBe(1);
    const executions = await executionsOf(task.id);
    expect(executions.map((e) => e.id)).toEqual([
      executions[0]!.id,
      (JSON.parse(bodies[0]!) as TriggerResponse).executionId,
    ]);
  });

  it('refuses the key with another body, or for another task, with 422 naming the header', async () => {
    const { org, task } = await completedTask();
    const key = freshKey();
    await json<TriggerResponse>(
      await trigger(org.orgId, task.id, key, { body: { triggerReason: 'one' } }),
      202,
    );
    const otherBody = await trigger(org.orgId, task.id, key, { body: { triggerReason: 'two' } });
    expect(otherBody.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = await json<Problem>(otherBody, 422);
    expect(problem).toMatchObject({ status: 422, errors: [{ field: 'Idempotency-Key' }] });
    expect(problem.detail).toMatch(/another task or request body/);

    expect(await runsOf(task.id)).toHaveLength(2);
  });

  it('keeps keys apart by organisation', async () => {
    const key = freshKey();
    const [a, b] = [await completedTask(), await completedTask()];
    const first = await json<TriggerResponse>(await trigger(a.org.orgId, a.task.id, key), 202);
    const second = await trigger(b.org.orgId, b.task.id, key);
    expect(second.headers.get('Idempotent-Replayed')).toBeNull();
    expect((await json<TriggerResponse>(second, 202)).executionId).not.toBe(first.executionId);
  });

  it('refuses the key of one task for another task of the organisation (422), even when both race', async () => {
    const { org, task } = await completedTask();
    const other = await createTask(org.orgId);
    await dispatch();
    await finish(other.id);
    const key = freshKey();
    const [a, b] = await Promise.all([trigger(org.orgId, task.id, key), trigger(org.orgId, other.id, key)]);
    expect([a.status, b.status].sort()).toEqual([202, 422]);
    const runs = [...(await runsOf(task.id)), ...(await runsOf(other.id))];
    expect(runs).toHaveLength(3);
  });

  it('claims no key with a refusal: after a 409, the key triggers once the task is idle', async () => {
    const { org, task } = await completedTask();
    await json<TriggerResponse>(await call(org.orgId, 'POST', `/tasks/${task.id}/trigger`), 202);
    const key = freshKey();
    await json<Problem>(await trigger(org.orgId, task.id, key), 409);
    await dispatch();
    await finish(task.id);
    const later = await trigger(org.orgId, task.id, key);
    expect(later.headers.get('Idempotent-Replayed')).toBeNull();
    expect((await json<TriggerResponse>(later, 202)).runNumber).toBe(3);
  });

  it('forgets a key after 24 hours: a new run, and the retention sweep deletes the old key', async () => {
    const { org, task } = await completedTask();
    const key = freshKey();
    const first = await json<TriggerResponse>(await trigger(org.orgId, task.id, key), 202);
    await dispatch();
    await finish(task.id);
    deps.clock.advance(24 * 3600_000 - 1000);
    const replayed = await json<TriggerResponse>(await trigger(org.orgId, task.id, key), 202);
    expect(replayed).toEqual(first);

    deps.clock.advance(2000);
    const fresh = await json<TriggerResponse>(await trigger(org.orgId, task.id, key), 202);
    expect(fresh.runNumber).toBe(3);
    deps.clock.advance(24 * 3600_000);
    await purgeExpiredRecords(deps, 30, 1000);
    const [row] = await deps.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM idempotency_keys WHERE org_id = $1`,
      [org.orgId],
    );
    expect(Number(row!.n)).toBe(0);
  });
});
