import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Batch, BatchCompensation, BatchTaskBody, CreateBatchBody } from '@meridian/contracts/api/batch';
import type { CreateTaskBody } from '@meridian/contracts/api/task';
import { BATCH_MAX_TASKS, checkBatchDag, externalReferences } from '../../domain/batch-dag.js';
import { InvalidFieldsError, UnprocessableError } from '../../domain/errors.js';
import {
  appendBatchEvents,
  attachBatchTasks,
  insertBatch,
  requestBatchWakeup,
  type BatchMembership,
} from '../../persistence/batch.writes.js';
import type { TaskEntity } from '../../persistence/entities/task.entity.js';
import { insertTaskWithEvents } from '../../persistence/task.writes.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { newTask } from '../create-task.js';
import { assignNewServer, placeTask, type Placement } from '../place-task.js';
import { getBatch } from './batch-queries.js';

interface TaskDefinition {
  body: CreateTaskBody;
  /** Where the definition sits in the request body, e.g. `tasks[2].onFailure[0]`. */
  field: string;
}

interface PlannedTask extends TaskDefinition {
  placement: Placement;
}

/**
 * Creates a batch: checks the graph (batch-dag.ts), checks and places every task as `POST /tasks`
 * does, then stores the batch, its tasks and dependencies in one transaction. Steps without a
 * dependency are Pending at once; the others, and every compensation, wait as Created until the
 * batch's worker releases them. Dependencies on existing tasks are looked at by the worker right
 * after the commit (one may already have completed).
 */
export async function createBatch(deps: AppDeps, actor: Actor, body: CreateBatchBody): Promise<Batch> {
  const steps = body.tasks;
  const existing = await existingTaskIds(deps.dataSource, actor.orgId, externalReferences(steps));
  const dag = checkBatchDag(steps, existing, BATCH_MAX_TASKS);
  if (!dag.ok) throw new InvalidFieldsError(dag.issues, dag.detail);

  const stepPlans = await placeAll(
    deps,
    actor,
    steps.map((step, index) => toTaskBody(step, `tasks[${index}]`)),
  );
  const compensationPlans = await placeAll(
    deps,
    actor,
    steps.flatMap((step, index) =>
      step.onFailure.map((compensation, position) =>
        toTaskBody(
          compensation,
          `tasks[${index}].onFailure[${position}]`,
          `${step.name}/onFailure[${position}]`,
        ),
      ),
    ),
  );

  const batchId = randomUUID();
  const now = deps.clock.now();
  const stepRows = stepPlans.map((plan, index) => {
    const rows = newTask(deps, actor, plan.body, plan.placement);
    const dependencies = dag.dependencies[index]!;
    const waits = dependencies.steps.length + dependencies.external.length > 0;
    return waits ? asWaiting(rows) : rows;
  });
  const compensationRows = compensationPlans.map((plan) =>
    asWaiting(newTask(deps, actor, plan.body, plan.placement)),
  );
  const stepIds = stepRows.map((rows) => rows.task.id);

  const members: BatchMembership[] = [];
  steps.forEach((step, index) =>
    members.push(member(stepRows[index]!.task, step.name, 'step', null, members.length)),
  );
  let next = 0;
  steps.forEach((step, index) =>
    step.onFailure.forEach((_, position) => {
      const task = compensationRows[next]!.task;
      members.push(
        member(task, `${step.name}/onFailure[${position}]`, 'compensation', stepIds[index]!, members.length),
      );
      next += 1;
    }),
  );
  const dependencies = dag.dependencies.flatMap((resolved, index) =>
    [...resolved.steps.map((dep) => stepIds[dep]!), ...resolved.external].map((dependsOnTaskId) => ({
      taskId: stepIds[index]!,
      dependsOnTaskId,
    })),
  );
  const roots = stepRows.filter((rows) => rows.task.status === 'Pending').map((rows) => rows.task);

  await deps.dataSource.transaction(async (manager) => {
    await insertBatch(manager, {
      id: batchId,
      orgId: actor.orgId,
      name: body.name ?? null,
      failurePolicy: body.failurePolicy,
      createdBy: actor.userId,
      correlationId: actor.correlationId,
      createdAt: now,
    });
    const planned = [...stepPlans, ...compensationPlans];
    const rows = [...stepRows, ...compensationRows];
    for (const [index, { task, run, events }] of rows.entries()) {
      await assignNewServer(manager, actor.orgId, planned[index]!.body, planned[index]!.placement, now);
      await insertTaskWithEvents(manager, task, run, events);
    }
    await attachBatchTasks(manager, { id: batchId, orgId: actor.orgId }, members, dependencies);
    const common = { orgId: actor.orgId, batchId, occurredAt: now };
    await appendBatchEvents(manager, [
      {
        ...common,
        type: 'BatchCreated',
        data: {
          steps: steps.length,
          compensations: compensationRows.length,
          failurePolicy: body.failurePolicy,
          actor: `user:${actor.userId}`,
        },
      },
      ...(roots.length > 0
        ? [
            {
              ...common,
              type: 'ViableStepsDiscovered',
              data: {
                stepIds: roots.map((t) => t.id),
                steps: roots.map((t) => t.name),
                batchSize: roots.length,
              },
            },
          ]
        : []),
    ]);
    if (dependencies.some((dependency) => !stepIds.includes(dependency.dependsOnTaskId))) {
      await requestBatchWakeup(manager, batchId);
    }
  });
  deps.logger.info(
    { batchId, correlationId: actor.correlationId, steps: steps.length, released: roots.length },
    'batch created',
  );
  return getBatch(deps, actor, batchId);
}

function toTaskBody(
  definition: BatchTaskBody | BatchCompensation,
  field: string,
  name?: string,
): TaskDefinition {
  if ('dependsOn' in definition) {
    const { dependsOn: _dependsOn, onFailure: _onFailure, ...fields } = definition;
    return { body: fields, field };
  }
  return { body: { ...definition, name }, field };
}

/** Places each task as POST /tasks does; every field refused is named in one 400, a placement refused in a 422. */
async function placeAll(deps: AppDeps, actor: Actor, definitions: TaskDefinition[]): Promise<PlannedTask[]> {
  const issues: { field: string; message: string }[] = [];
  const plans: PlannedTask[] = [];
  for (const plan of definitions) {
    try {
      plans.push({ ...plan, placement: await placeTask(deps.dataSource, actor.orgId, plan.body) });
    } catch (error) {
      if (error instanceof InvalidFieldsError) {
        issues.push(...error.issues.map((issue) => ({ ...issue, field: `${plan.field}.${issue.field}` })));
      } else if (error instanceof UnprocessableError) {
        throw new UnprocessableError(error.message, `${plan.field}.${error.field ?? 'targetId'}`);
      } else {
        throw error;
      }
    }
  }
  if (issues.length > 0) throw new InvalidFieldsError(issues);
  return plans;
}

/** A new task that waits to be released: Created, with only its `TaskCreated` event. */
function asWaiting<T extends { task: TaskEntity; events: { type: string }[] }>(rows: T): T {
  rows.task.status = 'Created';
  rows.events = rows.events.filter((event) => event.type === 'TaskCreated');
  return rows;
}

function member(
  task: TaskEntity,
  stepName: string,
  role: BatchMembership['role'],
  compensatesTaskId: string | null,
  position: number,
): BatchMembership {
  return {
    taskId: task.id,
    stepName,
    role,
    compensatesTaskId,
    position,
    releasedAt: task.status === 'Pending' ? task.createdAt : null,
  };
}

async function existingTaskIds(dataSource: DataSource, orgId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: { id: string }[] = await dataSource.query(
    `SELECT id FROM tasks WHERE org_id = $1 AND id = ANY($2::uuid[])`,
    [orgId, ids],
  );
  return new Set(rows.map((row) => row.id));
}
