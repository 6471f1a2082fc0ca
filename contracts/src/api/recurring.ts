import { z } from 'zod';
import { INT4_MAX } from '../storable.js';
import { CreateTaskBodySchema, pageOf, TaskPrioritySchema, TaskRetryPolicySchema } from './task.js';

/**
 * What happens to an occurrence while the task of the previous one has not finished: `skip` it
 * (recorded as skipped), `allow` it (both run), or `queue` it (it starts when the previous ends).
 */
export const OVERLAP_POLICIES = ['skip', 'allow', 'queue'] as const;
export const OverlapPolicySchema = z.enum(OVERLAP_POLICIES);
export type OverlapPolicy = z.infer<typeof OverlapPolicySchema>;

/**
 * Occurrences missed while no control plane ran: `skip` them, `fire-once` (one task now for all of
 * them), `fire-all` (one task each, the latest FIRE_ALL_LIMIT at most).
 */
export const MISFIRE_POLICIES = ['skip', 'fire-once', 'fire-all'] as const;
export const MisfirePolicySchema = z.enum(MISFIRE_POLICIES);
export type MisfirePolicy = z.infer<typeof MisfirePolicySchema>;

/** `fire-all` fires at most this many missed occurrences. */
export const FIRE_ALL_LIMIT = 100;

/** How many of the latest occurrences a recurring task shows. */
export const RECENT_OCCURRENCES = 20;

/** The task fields of POST /tasks that each occurrence's task gets. */
const taskFields = CreateTaskBodySchema.pick({
  type: true,
  name: true,
  description: true,
  targetType: true,
  targetId: true,
  nodeId: true,
  payload: true,
  metadata: true,
  priority: true,
  timeoutSeconds: true,
  maxRetries: true,
  retryPolicy: true,
}).shape;

const recurringFields = {
  /** Five fields (minute hour day-of-month month day-of-week), or six with seconds first. */
  schedule: z.string().trim().min(1).max(200),
  /** IANA time zone the schedule is read in. */
  timezone: z.string().trim().min(1).max(100).default('UTC'),
  enabled: z.boolean().default(true),
  overlap: OverlapPolicySchema.default('skip'),
  misfire: MisfirePolicySchema.default('fire-once'),
};

export const CreateRecurringTaskBodySchema = z
  .object({ ...taskFields, name: z.string().trim().min(1).max(200), ...recurringFields })
  .strict();
export type CreateRecurringTaskBody = z.infer<typeof CreateRecurringTaskBodySchema>;

/** Any of the create body's fields; those left out keep their value. `description`/`nodeId`: null clears. */
export const UpdateRecurringTaskBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    type: taskFields.type.optional(),
    targetType: taskFields.targetType.optional(),
    targetId: taskFields.targetId.optional(),
    description: taskFields.description.nullable(),
    nodeId: taskFields.nodeId.nullable(),
    payload: taskFields.payload.unwrap().optional(),
    metadata: taskFields.metadata.unwrap().optional(),
    priority: TaskPrioritySchema.optional(),
    timeoutSeconds: taskFields.timeoutSeconds.nullable(),
    maxRetries: taskFields.maxRetries.nullable(),
    retryPolicy: TaskRetryPolicySchema.nullable().optional(),
    schedule: recurringFields.schedule.optional(),
    timezone: recurringFields.timezone.unwrap().optional(),
    enabled: z.boolean().optional(),
    overlap: OverlapPolicySchema.optional(),
    misfire: MisfirePolicySchema.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field');
export type UpdateRecurringTaskBody = z.infer<typeof UpdateRecurringTaskBodySchema>;

export const OCCURRENCE_OUTCOMES = ['created', 'skipped'] as const;

/** One occurrence: the task it created, or why it created none. */
export const RecurringOccurrenceSchema = z.object({
  scheduledFor: z.string(),
  /** When the occurrence was handled: later than `scheduledFor` after a downtime. */
  firedAt: z.string(),
  /** True for POST /tasks/recurring/{id}/trigger. */
  manual: z.boolean(),
  outcome: z.enum(OCCURRENCE_OUTCOMES),
  taskId: z.uuid().nullable(),
  /** The task's status now (null when skipped, or when the task has been purged). */
  taskStatus: z.string().nullable(),
  /** `overlap` (the previous task had not finished), `misfire` (missed during a downtime), or why it could not be placed. */
  skipReason: z.string().nullable(),
});
export type RecurringOccurrence = z.infer<typeof RecurringOccurrenceSchema>;

export const RecurringTaskSchema = z.object({
  id: z.uuid(),
  orgId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  nodeId: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  priority: TaskPrioritySchema,
  timeoutSeconds: z.number().int().nullable(),
  maxRetries: z.number().int().nullable(),
  retryPolicy: TaskRetryPolicySchema.nullable(),
  schedule: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  overlap: OverlapPolicySchema,
  misfire: MisfirePolicySchema,
  /** The next occurrence; null when disabled (or the schedule has none left). */
  nextRunAt: z.string().nullable(),
  /** The scheduled time of the latest occurrence that created a task. */
  lastRunAt: z.string().nullable(),
  lastTaskId: z.uuid().nullable(),
  /** The latest RECENT_OCCURRENCES occurrences, newest first. */
  recentOccurrences: z.array(RecurringOccurrenceSchema),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RecurringTask = z.infer<typeof RecurringTaskSchema>;

export const RecurringTaskListSchema = pageOf(RecurringTaskSchema);
export type RecurringTaskList = z.infer<typeof RecurringTaskListSchema>;

export const ListRecurringTasksQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(INT4_MAX).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  enabled: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
export type ListRecurringTasksQuery = z.infer<typeof ListRecurringTasksQuerySchema>;
