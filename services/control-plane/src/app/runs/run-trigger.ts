import { randomUUID } from 'node:crypto';
import type { TriggerType } from '@meridian/contracts/api/task-run';
import type { TaskRunEntity, TaskRunState } from '../../persistence/entities/task-run.entity.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';

/** Who and what starts a run; recorded on the run, each of its executions and its events. */
export interface RunTrigger {
  type: TriggerType;
  context: Record<string, unknown>;
  reason: string | null;
  /** `user:<id>` or `system:<part>`, as in the audit log. */
  actor: string;
  correlationId: string;
  idempotencyKey?: string | null;
}

/** A new run row for `task`: numbered after every run started or queued so far. */
export function newRun(
  task: TaskEntity,
  trigger: RunTrigger,
  state: TaskRunState,
  runAfter: Date,
  now: Date,
): TaskRunEntity {
  return {
    id: randomUUID(),
    orgId: task.orgId,
    taskId: task.id,
    runNumber: task.runCount + 1,
    triggerType: trigger.type,
    triggerReason: trigger.reason,
    triggerContext: trigger.context,
    actor: trigger.actor,
    correlationId: trigger.correlationId,
    idempotencyKey: trigger.idempotencyKey ?? null,
    firstExecutionId: randomUUID(),
    state,
    runAfter,
    createdAt: now,
    startedAt: state === 'current' ? now : null,
    endedAt: null,
  };
}

/** What a run's events carry in `metadata`. */
export function runEventData(run: TaskRunEntity): Record<string, unknown> {
  return {
    runId: run.id,
    runNumber: run.runNumber,
    triggerType: run.triggerType,
    ...(run.triggerReason !== null ? { triggerReason: run.triggerReason } : {}),
    context: run.triggerContext,
    ...(run.idempotencyKey !== null ? { idempotencyKey: run.idempotencyKey } : {}),
    runAfter: run.runAfter.toISOString(),
  };
}
