import { createHash, randomUUID } from 'node:crypto';
import type { CreateTaskBody, Task } from '@meridian/contracts/api/task';
import { UnprocessableError } from '../domain/errors.js';
import { canonicalJson, IDEMPOTENCY_KEY_TTL_MS } from '../domain/idempotency-key.js';
import { priorityRank } from '../domain/node-selection.js';
import { transition } from '../domain/task-status.js';
import type { TaskRunEntity } from '../persistence/entities/task-run.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import {
  claimIdempotencyKey,
  findStoredResponse,
  type StoredResponse,
} from '../persistence/idempotency-keys.js';
import { toTaskDto } from '../persistence/mappers.js';
import type { NewTaskEvent } from '../persistence/task-event.writes.js';
import { insertTaskWithEvents } from '../persistence/task.writes.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';
import { assignNewServer, placeTask, type Placement } from './place-task.js';
import { newRun, runEventData, type RunTrigger } from './runs/run-trigger.js';

/**
 * Stores a new task and queues it for dispatch: Created, then Pending, both recorded as events in
 * the same statement. The dispatcher of any replica picks it up when that commits. Its payload and
 * target are checked and it is placed first (place-task.ts): a new server's first ServerStart
 * places the server on its node in the same transaction.
 */
export async function createTask(deps: AppDeps, actor: Actor, body: CreateTaskBody): Promise<Task> {
  const placement = await placeTask(deps.dataSource, actor.orgId, body);
  const { task, run, events } = newTask(deps, actor, body, placement);
  if (placement.kind === 'pinned' && placement.assignServer) {
    await deps.dataSource.transaction(async (manager) => {
      await assignNewServer(manager, actor.orgId, body, placement, task.createdAt);
      await insertTaskWithEvents(manager, task, run, events);
    });
  } else {
    await insertTaskWithEvents(deps.dataSource, task, run, events);
  }
  deps.logger.info(
    { taskId: task.id, correlationId: actor.correlationId, type: task.type, nodeId: task.nodeId },
    'task created',
  );
  return toTaskDto(task);
}

/** Scope of the keys of `POST /api/v1/tasks` in `idempotency_keys`. */
export const CREATE_TASK_SCOPE = 'POST /api/v1/tasks';

export interface IdempotentCreation {
  status: number;
  /** The response's JSON text: a replay sends the first response byte for byte. */
  body: string;
  taskId: string;
  /** True when an earlier request with the key created the task: this is its response again. */
  replayed: boolean;
}

/**
 * `createTask` under an idempotency key: the key is stored with the response in the transaction
 * that inserts the task. The same key with the same body (in canonical form, defaults applied)
 * within 24 hours gets that response again and creates nothing; with another body it is refused
 * (422). Keys belong to the caller's organisation.
 */
export async function createTaskIdempotently(
  deps: AppDeps,
  actor: Actor,
  body: CreateTaskBody,
  key: string,
): Promise<IdempotentCreation> {
  const requestHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
  let placement: Placement;
  try {
    placement = await placeTask(deps.dataSource, actor.orgId, body);
  } catch (error) {
    // Placement depends on the servers' nodes, which change: a repeat of a request that was
    // placed gets its first answer even when it could not be placed now.
    if (!(error instanceof UnprocessableError)) throw error;
    const earlier = await findStoredResponse(
      deps.dataSource.manager,
      { orgId: actor.orgId, scope: CREATE_TASK_SCOPE, key },
      deps.clock.now(),
    );
    if (earlier?.requestHash !== requestHash) throw error;
    return replay(earlier);
  }
  const { task, run, events } = newTask(deps, actor, body, placement);
  const dto = JSON.stringify(toTaskDto(task));
  const stored = await deps.dataSource.transaction(async (manager) => {
    const existing = await claimIdempotencyKey(manager, {
      orgId: actor.orgId,
      scope: CREATE_TASK_SCOPE,
      key,
      requestHash,
      status: 201,
      body: dto,
      headers: {},
      createdBy: actor.userId,
      createdAt: task.createdAt,
      expiresAt: new Date(task.createdAt.getTime() + IDEMPOTENCY_KEY_TTL_MS),
    });
    if (!existing) {
      await assignNewServer(manager, actor.orgId, body, placement, task.createdAt);
      await insertTaskWithEvents(manager, task, run, events);
    }
    return existing;
  });
  if (!stored) {
    deps.logger.info(
      { taskId: task.id, correlationId: actor.correlationId, type: task.type },
      'task created',
    );
    return { status: 201, body: dto, taskId: task.id, replayed: false };
  }
  if (stored.requestHash !== requestHash) {
    throw new UnprocessableError(
      'this Idempotency-Key was used with a different request body in the last 24 hours; use a new key',
      'Idempotency-Key',
    );
  }
  return replay(stored);
}

function replay(stored: StoredResponse): IdempotentCreation {
  const { id } = JSON.parse(stored.body) as Task;
  return { status: stored.status, body: stored.body, taskId: id, replayed: true };
}

/**
 * A new task's row, first run and first events, as POST /tasks creates them (batches reuse it).
 * `trigger` is what starts its first run: the API call by default, an occurrence for a recurring task.
 */
export function newTask(
  deps: AppDeps,
  actor: Actor,
  body: CreateTaskBody,
  placement: Placement,
  trigger: RunTrigger = apiTrigger(actor),
): { task: TaskEntity; run: TaskRunEntity; events: NewTaskEvent[] } {
  const now = deps.clock.now();
  const scheduledAt = body.scheduledAt ? new Date(body.scheduledAt) : null;
  const queued = transition('Created', { type: 'Queue' });
  if (!queued.ok) throw new Error(queued.error);

  const task = Object.assign(new TaskEntity(), {
    id: randomUUID(),
    orgId: actor.orgId,
    type: body.type,
    name: body.name ?? body.type,
    description: body.description ?? null,
    priority: priorityRank(body.priority),
    status: queued.to,
    targetType: body.targetType,
    targetId: body.targetId,
    nodeId: placement.nodeId,
    payload: body.payload,
    metadata: body.metadata,
    timeoutSeconds: body.timeoutSeconds ?? deps.defaults.timeoutSeconds,
    maxRetries: body.maxRetries ?? deps.defaults.maxRetries,
    retryCount: 0,
    attemptCount: 0,
    retryPolicy: body.retryPolicy ?? null,
    scheduledAt,
    runAfter: scheduledAt && scheduledAt > now ? scheduledAt : now,
    currentExecutionId: null,
    createdBy: actor.userId,
    cancelledBy: null,
    cancellationReason: null,
    correlationId: actor.correlationId,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    completedAt: null,
    currentRunId: null,
    runCount: 0,
    triggerType: trigger.type,
    queuedRunCount: 0,
    nextExecutionId: null,
    schedule: null,
    nextRunAt: null,
    pausedFrom: null,
    pausedAt: null,
    pauseRequestedAt: null,
  } satisfies TaskEntity);
  const run = newRun(task, trigger, 'current', task.runAfter, now);
  Object.assign(task, { currentRunId: run.id, runCount: 1, nextExecutionId: run.firstExecutionId });

  const common = { orgId: task.orgId, taskId: task.id, actor: trigger.actor, occurredAt: now };
  const events: NewTaskEvent[] = [
    { ...common, type: 'TaskCreated', toStatus: 'Created', correlationId: actor.correlationId },
    {
      ...common,
      type: 'TaskQueued',
      fromStatus: 'Created',
      toStatus: queued.to,
      correlationId: actor.correlationId,
      executionId: run.firstExecutionId,
      data: runEventData(run),
    },
  ];
  return { task, run, events };
}

/** The creation by POST /tasks is the task's first run, triggered by the API call. */
function apiTrigger(actor: Actor): RunTrigger {
  return {
    type: 'api',
    context: {},
    reason: null,
    actor: `user:${actor.userId}`,
    correlationId: actor.correlationId,
  };
}
