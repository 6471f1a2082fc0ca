import { createHash } from 'node:crypto';
import type { TriggerTaskBody } from '@meridian/contracts/api/task-run';
import { UnprocessableError } from '../domain/errors.js';
import { canonicalJson, IDEMPOTENCY_KEY_TTL_MS } from '../domain/idempotency-key.js';
import { claimIdempotencyKey, findStoredResponse } from '../persistence/idempotency-keys.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { recordTransitionRejected } from './record-transition-rejected.js';
import { lockTaskOfOrg } from './runs/lock-task.js';
import { triggerLockedTask, TriggerRefusedError } from './trigger-task.js';

/** Scope of the keys of `POST /tasks/{id}/trigger` and `/execute` (one operation) in `idempotency_keys`. */
export const TRIGGER_TASK_SCOPE = 'POST /api/v1/tasks/{id}/trigger';

export const TRIGGER_ACCEPTED = 202;

export interface TriggerOutcome {
  /** The response's JSON text: a replay sends the first response byte for byte. */
  body: string;
  /** True when an earlier request with the key triggered the run: this is its response again. */
  replayed: boolean;
}

type Decided = TriggerOutcome | { refused: TriggerRefusedError };

/**
 * `POST /tasks/{id}/trigger`: triggers the task under its row lock and, with an idempotency key,
 * stores the response under the key in the same transaction. Requests with one key for one task
 * queue on that lock, so the second finds the first's response, committed: the same key with the
 * same task and body (canonical, defaults applied) within 24 hours gets that response again and
 * starts nothing; with another task or body it is refused (422). A refusal (409) is recorded as
 * `TransitionRejected` and claims no key, so the call may be repeated with its key later.
 */
export async function triggerTaskIdempotently(
  deps: AppDeps,
  actor: Actor,
  taskId: string,
  body: TriggerTaskBody,
  key: string | undefined,
): Promise<TriggerOutcome> {
  const requestHash = createHash('sha256')
    .update(canonicalJson({ taskId, ...body }))
    .digest('hex');
  const keyRow = key === undefined ? null : { orgId: actor.orgId, scope: TRIGGER_TASK_SCOPE, key };
  const decided = await deps.dataSource.transaction(async (manager): Promise<Decided> => {
    const task = await lockTaskOfOrg(manager, actor.orgId, taskId);
    const now = deps.clock.now();
    if (keyRow) {
      const stored = await findStoredResponse(manager, keyRow, now);
      if (stored) return replay(stored.requestHash, requestHash, stored.body);
    }
    let response: string;
    try {
      const triggered = await triggerLockedTask(manager, deps, actor, task, {
        ...body,
        triggerType: 'manual',
        idempotencyKey: key ?? null,
      });
      response = JSON.stringify(triggered);
    } catch (error) {
      if (!(error instanceof TriggerRefusedError)) throw error;
      await recordTransitionRejected(
        manager,
        actor,
        task,
        { event: 'Trigger', queue: body.queue, error: error.error },
        now,
      );
      return { refused: error };
    }
    if (keyRow) {
      const taken = await claimIdempotencyKey(manager, {
        ...keyRow,
        requestHash,
        status: TRIGGER_ACCEPTED,
        body: response,
        headers: {},
        createdBy: actor.userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS),
      });
      // Only a request for another task can have taken the key meanwhile (this task's are locked out).
      if (taken) throw keyReused();
    }
    return { body: response, replayed: false };
  });
  if ('refused' in decided) throw decided.refused;
  return decided;
}

function replay(storedHash: string, requestHash: string, body: string): TriggerOutcome {
  if (storedHash !== requestHash) throw keyReused();
  return { body, replayed: true };
}

function keyReused(): UnprocessableError {
  return new UnprocessableError(
    'this Idempotency-Key was used with another task or request body in the last 24 hours; use a new key',
    'Idempotency-Key',
  );
}
