import { z } from 'zod';
import { refuseUnstorableJson } from '../storable-json.js';
import { INT4_MAX, isUnstorableText } from '../storable.js';

export const TASK_STATUSES = [
  'Created',
  'Pending',
  'Scheduled',
  'Running',
  'Completed',
  'Failed',
  'Retrying',
  'Timeout',
  'Cancelled',
  /** Starts no run (scheduled, cron or triggered) until resumed. */
  'Paused',
] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const TASK_PRIORITIES = ['Low', 'Normal', 'High', 'Critical'] as const;
export const TaskPrioritySchema = z.enum(TASK_PRIORITIES);
export type TaskPriority = z.infer<typeof TaskPrioritySchema>;

const JsonObjectSchema = z.record(z.string(), z.unknown());

/**
 * Nesting of a task's `payload` and `metadata` (`{}` is 1). The payload travels inside the
 * `ExecuteTask` envelope, whose whole body may nest at most 32 levels.
 */
export const TASK_JSON_MAX_DEPTH = 16;

/** JSON a person sends: refused, naming the path, where jsonb could not store it. */
const StorableJsonObjectSchema = JsonObjectSchema.superRefine(refuseUnstorableJson(TASK_JSON_MAX_DEPTH));

const NO_NUL = 'must not contain NUL or lone surrogates';
/** Text a person sends: PostgreSQL cannot store NUL (nor jsonb a lone surrogate), so it is a 400. */
const text = () => z.string().refine((value) => !isUnstorableText(value), NO_NUL);
const DAY_SECONDS = 86_400;

/**
 * A task's own retry backoff, replacing the control plane's (`RETRY_POLICY`): a fixed list of
 * delays (the last repeats; the configured jitter applies), or exponential with full jitter:
 * a random delay between 0 and min(maxSeconds, baseSeconds × 2^retry).
 */
export const TaskRetryPolicySchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('fixed'),
      backoffSeconds: z.array(z.number().int().min(0).max(DAY_SECONDS)).min(1).max(20),
    })
    .strict(),
  z
    .object({
      kind: z.literal('exponential'),
      baseSeconds: z.number().int().min(1).max(DAY_SECONDS),
      maxSeconds: z.number().int().min(1).max(DAY_SECONDS),
    })
    .strict()
    .refine((policy) => policy.maxSeconds >= policy.baseSeconds, {
      message: 'maxSeconds must be at least baseSeconds',
      path: ['maxSeconds'],
    }),
]);
export type TaskRetryPolicy = z.infer<typeof TaskRetryPolicySchema>;

/** A task's repeating schedule: a run starts at every occurrence until rescheduled or cancelled. */
export const TaskScheduleSchema = z.object({
  strategy: z.literal('cron'),
  expression: z.string(),
  timezone: z.string(),
});
export type TaskSchedule = z.infer<typeof TaskScheduleSchema>;

export const CreateTaskBodySchema = z
  .object({
    type: text().trim().min(1).max(100),
    /** Defaults to the type (seed 004's create body has no name). */
    name: text().trim().min(1).max(200).optional(),
    description: text().max(2000).optional(),
    priority: TaskPrioritySchema.default('Normal'),
    targetType: text().trim().min(1).max(100),
    targetId: text().trim().min(1).max(200),
    nodeId: text().trim().min(1).max(200).optional(),
    scheduledAt: z.iso.datetime({ offset: true }).nullable().optional(),
    payload: StorableJsonObjectSchema.default({}),
    metadata: StorableJsonObjectSchema.default({}),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    maxRetries: z.number().int().min(0).max(20).optional(),
    retryPolicy: TaskRetryPolicySchema.optional(),
  })
  .strict();
export type CreateTaskBody = z.infer<typeof CreateTaskBodySchema>;

export const TaskSchema = z.object({
  id: z.uuid(),
  orgId: z.string(),
  type: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  priority: TaskPrioritySchema,
  status: TaskStatusSchema,
  targetType: z.string(),
  targetId: z.string(),
  nodeId: z.string().nullable(),
  payload: JsonObjectSchema,
  metadata: JsonObjectSchema,
  timeoutSeconds: z.number().int(),
  maxRetries: z.number().int(),
  retryCount: z.number().int(),
  /** The task's own backoff; null: the control plane's configured one. */
  retryPolicy: TaskRetryPolicySchema.nullable(),
  scheduledAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  createdBy: z.string(),
  cancelledBy: z.string().nullable(),
  cancellationReason: z.string().nullable(),
  correlationId: z.string(),
  currentExecutionId: z.uuid().nullable(),
  /** Number of the current (or last) run; a run is started by a trigger and holds one or more attempts. */
  runNumber: z.number().int(),
  /** What started the current (or last) run. */
  triggerType: z.string(),
  /** Runs triggered with `queue: true`, waiting for the current one to end. */
  queuedRuns: z.number().int(),
  schedule: TaskScheduleSchema.nullable(),
  /** When the schedule next starts a run (null: no schedule, or paused). */
  nextRunAt: z.string().nullable(),
  pausedAt: z.string().nullable(),
  /** Paused while an execution ran: the task becomes Paused when that run ends. */
  pauseRequested: z.boolean(),
});
export type Task = z.infer<typeof TaskSchema>;

export const ListTasksQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(INT4_MAX).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  status: TaskStatusSchema.optional(),
  type: text().min(1).max(100).optional(),
  targetId: text().min(1).max(200).optional(),
  nodeId: text().min(1).max(200).optional(),
  sort: z.enum(['createdAt', 'status']).default('createdAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuerySchema>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
  });
}

export const TaskListSchema = pageOf(TaskSchema);
export type TaskList = z.infer<typeof TaskListSchema>;

export const CancelTaskBodySchema = z.object({ reason: text().max(1000).optional() }).strict();
export const CancelTaskQuerySchema = z.object({ reason: text().max(1000).optional() });
