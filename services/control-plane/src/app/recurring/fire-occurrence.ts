import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { InvalidFieldsError, UnprocessableError } from '../../domain/errors.js';
import type { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import { insertOccurrences } from '../../persistence/recurring-tasks.js';
import { insertTaskWithEvents } from '../../persistence/task.writes.js';
import type { AppDeps } from '../app-deps.js';
import { newTask } from '../create-task.js';
import { assignNewServer, placeTask, type Placement } from '../place-task.js';
import { taskBodyOf } from './recurring-definition.js';

export type FiredOccurrence =
  | { outcome: 'created'; taskId: string }
  | { outcome: 'skipped'; reason: string }
  /** Its key was recorded before (another replica, an earlier run): nothing done. */
  | { outcome: 'duplicate' };

export interface OccurrenceTrigger {
  scheduledFor: Date;
  manual: boolean;
  /** `system:recurring`, or `user:<id>` for a manual trigger. */
  actor: string;
  now: Date;
}

/**
 * Creates the task of one occurrence of a locked recurring task, in the caller's transaction:
 * checked and placed as POST /tasks does, with trigger type `recurring`. The occurrence's key is
 * inserted first; when it exists already nothing is created. An occurrence whose task cannot be
 * placed (its server's node gone) is recorded as skipped with the reason; for a manual trigger it is
 * the error POST /tasks would answer.
 */
export async function fireOccurrence(
  manager: EntityManager,
  deps: AppDeps,
  recurring: RecurringTaskEntity,
  trigger: OccurrenceTrigger,
): Promise<FiredOccurrence> {
  const body = taskBodyOf(recurring);
  const base = {
    recurringTaskId: recurring.id,
    orgId: recurring.orgId,
    scheduledFor: trigger.scheduledFor,
    firedAt: trigger.now,
    manual: trigger.manual,
  };
  let placement: Placement;
  try {
    placement = await placeTask(manager, recurring.orgId, body);
  } catch (error) {
    // A user's trigger is answered like POST /tasks (422, 400); the schedule records and goes on.
    if (trigger.manual) throw error;
    if (!(error instanceof UnprocessableError) && !(error instanceof InvalidFieldsError)) throw error;
    const reason = `not placed: ${error.message}`;
    const inserted = await insertOccurrences(manager, [{ ...base, taskId: null, skipReason: reason }]);
    return inserted.size > 0 ? { outcome: 'skipped', reason } : { outcome: 'duplicate' };
  }
  const correlationId = randomUUID();
  const { task, run, events } = newTask(
    deps,
    { orgId: recurring.orgId, userId: recurring.createdBy, permissions: new Set(), correlationId },
    body,
    placement,
    {
      type: 'recurring',
      context: { recurringTaskId: recurring.id, occurrence: trigger.scheduledFor.toISOString() },
      reason: trigger.manual ? 'manual' : 'cron',
      actor: trigger.actor,
      correlationId,
    },
  );
  const inserted = await insertOccurrences(manager, [{ ...base, taskId: task.id, skipReason: null }]);
  if (inserted.size === 0) return { outcome: 'duplicate' };
  await assignNewServer(manager, recurring.orgId, body, placement, trigger.now);
  await insertTaskWithEvents(manager, task, run, events);
  recurring.lastTaskId = task.id;
  recurring.lastRunAt = trigger.scheduledFor;
  deps.logger.info(
    { taskId: task.id, recurringTaskId: recurring.id, occurrence: trigger.scheduledFor, correlationId },
    'recurring occurrence created a task',
  );
  return { outcome: 'created', taskId: task.id };
}
