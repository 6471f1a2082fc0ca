import { randomUUID } from 'node:crypto';
import type { CreateTaskBody, Task } from '@meridian/contracts/api/task';
import { isValidNodeId } from '@meridian/contracts/topology';
import { UnprocessableError } from '../domain/errors.js';
import { priorityRank } from '../domain/node-selection.js';
import { transition } from '../domain/task-status.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { toTaskDto } from '../persistence/mappers.js';
import { insertTaskWithEvents } from '../persistence/task.writes.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

/**
 * Stores a new task and queues it for dispatch: Created, then Pending, both recorded as events in
 * the same statement. The dispatcher of any replica picks it up when that commits.
 */
export async function createTask(deps: AppDeps, actor: Actor, body: CreateTaskBody): Promise<Task> {
  if (body.nodeId !== undefined && !isValidNodeId(body.nodeId)) {
    throw new UnprocessableError('nodeId may hold letters, digits, ".", "_" and "-" only', 'nodeId');
  }
  const now = deps.clock.now();
  const scheduledAt = body.scheduledAt ? new Date(body.scheduledAt) : null;
  const queued = transition('Created', { type: 'Queue' });
  if (!queued.ok) throw new Error(queued.error);

  const task = Object.assign(new TaskEntity(), {
    id: randomUUID(),
    orgId: actor.orgId,
    type: body.type,
    name: body.name,
    description: body.description ?? null,
    priority: priorityRank(body.priority),
    status: queued.to,
    targetType: body.targetType,
    targetId: body.targetId,
    nodeId: body.nodeId ?? null,
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
  } satisfies TaskEntity);

  const common = { orgId: task.orgId, taskId: task.id, actor: `user:${actor.userId}`, occurredAt: now };
  await insertTaskWithEvents(deps.dataSource, task, [
    { ...common, type: 'TaskCreated', toStatus: 'Created', correlationId: actor.correlationId },
    {
      ...common,
      type: 'TaskQueued',
      fromStatus: 'Created',
      toStatus: queued.to,
      correlationId: actor.correlationId,
    },
  ]);
  deps.logger.info({ taskId: task.id, correlationId: actor.correlationId, type: task.type }, 'task created');
  return toTaskDto(task);
}
