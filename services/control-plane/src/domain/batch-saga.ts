import type { BatchFailurePolicy, BatchStatus } from '@meridian/contracts/api/batch';
import type { TaskStatus } from '@meridian/contracts/api/task';

/**
 * The saga's planner: given a batch's state after some of its tasks (or tasks it depends on)
 * finished, what to do next. Pure; the worker applies the plan in the transaction that holds the
 * batch's row lock, and every move of a task is guarded by its status, so a plan applied twice
 * does nothing the second time.
 */

export const FINISHED_BATCH_STATUSES: ReadonlySet<BatchStatus> = new Set([
  'Completed',
  'Failed',
  'Compensated',
  'Cancelled',
]);

/** Who cancels the tasks the planner stops: a step cancelled by anyone else is a failure. */
export const BATCH_ACTOR = 'system:batch';

export interface SagaTask {
  id: string;
  name: string;
  status: TaskStatus;
  /** Position in the request: steps first, then compensations, each in order. */
  position: number;
  /** True when the planner (or DELETE of the batch) cancelled it. */
  cancelledByBatch: boolean;
  completedAt: Date | null;
}

export interface SagaStep extends SagaTask {
  /** Ids of the tasks it waits for: steps of the batch or tasks outside it. */
  dependsOn: readonly string[];
}

export interface SagaCompensation extends SagaTask {
  compensatesId: string;
}

export interface SagaSnapshot {
  status: BatchStatus;
  failurePolicy: BatchFailurePolicy;
  createdAt: Date;
  steps: readonly SagaStep[];
  compensations: readonly SagaCompensation[];
  /** Status of each task outside the batch a step depends on. */
  externalStatus: ReadonlyMap<string, TaskStatus>;
  /** The tasks whose end woke the planner (none for the pass after creation). */
  finishedTaskIds: readonly string[];
}

export interface SagaEvent {
  type: string;
  taskId?: string;
  data: Record<string, unknown>;
}

export interface SagaPlan {
  /** Created tasks to make Pending. */
  release: string[];
  /** Created tasks that will never run, and why. */
  cancel: { id: string; reason: string }[];
  /** The batch's new status, when it changes. */
  status: BatchStatus | null;
  events: SagaEvent[];
  /** Steps whose end is recorded on their own history (`StepCompleted`). */
  stepEvents: SagaEvent[];
}

const ACTIVE: ReadonlySet<TaskStatus> = new Set(['Pending', 'Scheduled', 'Running', 'Retrying', 'Paused']);

/** A task that has started or may still start on its own (queued, out on a node, waiting for a retry or paused). */
export function isActive(status: TaskStatus): boolean {
  return ACTIVE.has(status);
}

/** A step that failed for good: it failed, timed out, or someone other than the batch cancelled it. */
function hasFailed(task: SagaTask): boolean {
  return (
    task.status === 'Failed' ||
    task.status === 'Timeout' ||
    (task.status === 'Cancelled' && !task.cancelledByBatch)
  );
}

/** A dependency that can no longer complete. */
function isDead(status: TaskStatus | undefined): boolean {
  return status === 'Failed' || status === 'Timeout' || status === 'Cancelled';
}

export function planSaga(snapshot: SagaSnapshot, now: Date): SagaPlan {
  const plan: SagaPlan = { release: [], cancel: [], status: null, events: [], stepEvents: [] };
  if (FINISHED_BATCH_STATUSES.has(snapshot.status)) {
    cancelLeftovers(snapshot, plan, 'the batch has ended');
    return plan;
  }
  recordStepEnds(snapshot, plan);
  if (snapshot.status === 'Compensating') {
    planCompensations(snapshot, plan, now);
    return plan;
  }
  const failed = snapshot.steps.filter(hasFailed);
  const statusOf = statusLookup(snapshot);
  const doomed =
    failed.length > 0 && snapshot.failurePolicy === 'cancel-dependents'
      ? snapshot.steps.filter((step) => step.status === 'Created')
      : doomedSteps(snapshot, statusOf);
  const doomedIds = new Set(doomed.map((step) => step.id));
  const why =
    failed.length > 0 ? `step ${failed.map((step) => step.name).join(', ')} failed` : 'a dependency failed';
  for (const step of doomed) plan.cancel.push({ id: step.id, reason: why });
  if (doomed.length > 0) {
    plan.events.push({
      type: 'NoViableSteps',
      data: { reason: cancelReason(failed, snapshot.failurePolicy), blockedSteps: doomed.map((s) => s.name) },
    });
  }
  const viable = snapshot.steps.filter(
    (step) =>
      step.status === 'Created' &&
      !doomedIds.has(step.id) &&
      step.dependsOn.every((id) => statusOf(id) === 'Completed'),
  );
  plan.release.push(...viable.map((step) => step.id));
  if (viable.length > 0) {
    plan.events.push({
      type: 'ViableStepsDiscovered',
      data: {
        stepIds: viable.map((step) => step.id),
        steps: viable.map((s) => s.name),
        batchSize: viable.length,
      },
    });
  }
  const stillActive = snapshot.steps.some((step) => isActive(step.status)) || viable.length > 0;
  if (stillActive) return plan;
  const waiting = snapshot.steps.filter((step) => step.status === 'Created' && !doomedIds.has(step.id));
  if (waiting.length > 0) {
    // Only dependencies outside the batch, not yet finished, can hold steps back here.
    plan.events.push({
      type: 'NoViableSteps',
      data: { reason: 'waiting for tasks outside the batch', blockedSteps: waiting.map((s) => s.name) },
    });
    return plan;
  }
  const everyStepCompleted = snapshot.steps.every((step) => step.status === 'Completed');
  if (everyStepCompleted) {
    finish(snapshot, plan, 'Completed', now);
    return plan;
  }
  startCompensating(snapshot, plan, now);
  return plan;
}

function statusLookup(snapshot: SagaSnapshot): (id: string) => TaskStatus | undefined {
  const own = new Map(snapshot.steps.map((step) => [step.id, step.status]));
  return (id) => own.get(id) ?? snapshot.externalStatus.get(id);
}

/** Waiting steps that can never run: a dependency (transitively) failed or was cancelled. */
function doomedSteps(snapshot: SagaSnapshot, statusOf: (id: string) => TaskStatus | undefined): SagaStep[] {
  const doomed = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of snapshot.steps) {
      if (step.status !== 'Created' || doomed.has(step.id)) continue;
      if (step.dependsOn.some((id) => doomed.has(id) || isDead(statusOf(id)))) {
        doomed.add(step.id);
        grew = true;
      }
    }
  }
  return snapshot.steps.filter((step) => doomed.has(step.id));
}

function cancelReason(failed: readonly SagaStep[], policy: BatchFailurePolicy): string {
  if (failed.length === 0) return 'a task the steps depend on failed or was cancelled';
  const names = failed.map((step) => step.name).join(', ');
  return policy === 'cancel-dependents'
    ? `${names} failed: no further step starts (cancel-dependents)`
    : `${names} failed: its dependents cannot run (continue)`;
}

function recordStepEnds(snapshot: SagaSnapshot, plan: SagaPlan): void {
  const woken = new Set(snapshot.finishedTaskIds);
  const remaining = snapshot.steps.filter((step) => step.status !== 'Completed' && !isDeadStep(step)).length;
  for (const step of snapshot.steps) {
    if (!woken.has(step.id)) continue;
    if (step.status === 'Completed') {
      const event = {
        type: 'StepCompleted',
        taskId: step.id,
        data: { step: step.name, remainingSteps: remaining },
      };
      plan.events.push(event);
      plan.stepEvents.push(event);
    } else if (hasFailed(step)) {
      const event = { type: 'StepFailed', taskId: step.id, data: { step: step.name, status: step.status } };
      plan.events.push(event);
      plan.stepEvents.push(event);
    }
  }
}

function isDeadStep(step: SagaStep): boolean {
  return isDead(step.status);
}

/** The compensations to run, in order: the completed steps' in reverse order of completion, each step's in request order. */
export function compensationOrder(snapshot: SagaSnapshot): SagaCompensation[] {
  const completed = snapshot.steps
    .filter((step) => step.status === 'Completed')
    .sort(
      (a, b) => (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0) || b.position - a.position,
    );
  return completed.flatMap((step) =>
    snapshot.compensations
      .filter((compensation) => compensation.compensatesId === step.id)
      .sort((a, b) => a.position - b.position),
  );
}

function startCompensating(snapshot: SagaSnapshot, plan: SagaPlan, now: Date): void {
  const order = compensationOrder(snapshot);
  if (order.length === 0) {
    finish(snapshot, plan, 'Failed', now);
    return;
  }
  plan.status = 'Compensating';
  plan.events.push({
    type: 'CompensationStarted',
    data: {
      steps: order.map((c) => c.name),
      failedSteps: snapshot.steps.filter(hasFailed).map((s) => s.name),
    },
  });
  plan.release.push(order[0]!.id);
}

/** One compensation at a time, in order; a failed one does not stop the others, but the batch ends Failed. */
function planCompensations(snapshot: SagaSnapshot, plan: SagaPlan, now: Date): void {
  const order = compensationOrder(snapshot);
  if (order.some((compensation) => isActive(compensation.status))) return;
  const next = order.find((compensation) => compensation.status === 'Created');
  if (next) {
    plan.release.push(next.id);
    return;
  }
  const allCompleted = order.every((compensation) => compensation.status === 'Completed');
  finish(snapshot, plan, allCompleted ? 'Compensated' : 'Failed', now);
}

function finish(snapshot: SagaSnapshot, plan: SagaPlan, status: BatchStatus, now: Date): void {
  plan.status = status;
  const steps = snapshot.steps.length;
  const completed = snapshot.steps.filter((step) => step.status === 'Completed').length;
  const totalDurationMs = now.getTime() - snapshot.createdAt.getTime();
  if (status === 'Completed') {
    plan.events.push({ type: 'BatchCompleted', data: { totalDurationMs, successRate: completed / steps } });
  } else {
    plan.events.push({
      type: 'BatchFailed',
      data: {
        status,
        totalDurationMs,
        successRate: completed / steps,
        failedSteps: snapshot.steps.filter(hasFailed).map((step) => step.name),
        failedCompensations: snapshot.compensations.filter(hasFailed).map((c) => c.name),
      },
    });
  }
  cancelLeftovers(snapshot, plan, 'not needed');
}

function cancelLeftovers(snapshot: SagaSnapshot, plan: SagaPlan, reason: string): void {
  const pending = new Set([...plan.release, ...plan.cancel.map((cancel) => cancel.id)]);
  for (const task of [...snapshot.steps, ...snapshot.compensations]) {
    if (task.status === 'Created' && !pending.has(task.id)) plan.cancel.push({ id: task.id, reason });
  }
}
