import type { DataSource, EntityManager } from 'typeorm';
import type { CreateTaskBody } from '@meridian/contracts/api/task';
import { validateCronSchedule } from '../../domain/cron-schedule.js';
import { InvalidFieldError } from '../../domain/errors.js';
import type { RecurringTaskEntity } from '../../persistence/entities/recurring-task.entity.js';
import { placeTask } from '../place-task.js';

/** The fields of a recurring task that make up each occurrence's task and its schedule. */
export type RecurringDefinition = Pick<
  RecurringTaskEntity,
  | 'name'
  | 'description'
  | 'type'
  | 'targetType'
  | 'targetId'
  | 'nodeId'
  | 'payload'
  | 'metadata'
  | 'priority'
  | 'timeoutSeconds'
  | 'maxRetries'
  | 'retryPolicy'
  | 'schedule'
  | 'timezone'
  | 'enabled'
>;

/** The POST /tasks body each occurrence creates its task with. */
export function taskBodyOf(definition: RecurringDefinition): CreateTaskBody {
  return {
    type: definition.type,
    name: definition.name,
    ...(definition.description !== null ? { description: definition.description } : {}),
    priority: definition.priority,
    targetType: definition.targetType,
    targetId: definition.targetId,
    ...(definition.nodeId !== null ? { nodeId: definition.nodeId } : {}),
    payload: definition.payload,
    metadata: definition.metadata,
    ...(definition.timeoutSeconds !== null ? { timeoutSeconds: definition.timeoutSeconds } : {}),
    ...(definition.maxRetries !== null ? { maxRetries: definition.maxRetries } : {}),
    ...(definition.retryPolicy !== null ? { retryPolicy: definition.retryPolicy } : {}),
  };
}

/**
 * Checks a definition as POST /tasks checks a task (payload against its type's schema, target,
 * placement: 400 or 422 naming the field) and its schedule (400 naming `body.schedule` or
 * `body.timezone`). Returns its next run after `now`: null when disabled.
 */
export async function checkRecurringDefinition(
  queryable: DataSource | EntityManager,
  orgId: string,
  definition: RecurringDefinition,
  now: Date,
): Promise<Date | null> {
  const checked = validateCronSchedule(
    { expression: definition.schedule, timezone: definition.timezone },
    now,
  );
  if (!checked.ok) {
    throw new InvalidFieldError(checked.field === 'expression' ? 'schedule' : 'timezone', checked.message);
  }
  await placeTask(queryable, orgId, taskBodyOf(definition));
  return definition.enabled ? checked.next : null;
}
