import { randomUUID } from 'node:crypto';
import type { CreateRecurringTaskBody, RecurringTask } from '@meridian/contracts/api/recurring';
import { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { checkRecurringDefinition, type RecurringDefinition } from './recurring-definition.js';
import { withOccurrences } from './recurring-queries.js';

/** Stores a recurring task after checking it as POST /tasks checks a task; its first occurrence is the next after now. */
export async function createRecurringTask(
  deps: AppDeps,
  actor: Actor,
  body: CreateRecurringTaskBody,
): Promise<RecurringTask> {
  const now = deps.clock.now();
  const definition: RecurringDefinition = {
    name: body.name,
    description: body.description ?? null,
    type: body.type,
    targetType: body.targetType,
    targetId: body.targetId,
    nodeId: body.nodeId ?? null,
    payload: body.payload,
    metadata: body.metadata,
    priority: body.priority,
    timeoutSeconds: body.timeoutSeconds ?? null,
    maxRetries: body.maxRetries ?? null,
    retryPolicy: body.retryPolicy ?? null,
    schedule: body.schedule,
    timezone: body.timezone,
    enabled: body.enabled,
  };
  const nextRunAt = await checkRecurringDefinition(deps.dataSource, actor.orgId, definition, now);
  const row = Object.assign(new RecurringTaskEntity(), {
    ...definition,
    id: randomUUID(),
    orgId: actor.orgId,
    overlap: body.overlap,
    misfire: body.misfire,
    nextRunAt,
    lastRunAt: null,
    lastTaskId: null,
    createdBy: actor.userId,
    correlationId: actor.correlationId,
    createdAt: now,
    updatedAt: now,
  } satisfies RecurringTaskEntity);
  await deps.dataSource.getRepository(RecurringTaskEntity).save(row);
  deps.logger.info(
    { recurringTaskId: row.id, correlationId: actor.correlationId, schedule: row.schedule, nextRunAt },
    'recurring task created',
  );
  return withOccurrences(deps.dataSource.manager, row);
}
