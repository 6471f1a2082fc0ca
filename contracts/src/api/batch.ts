import { z } from 'zod';
import { INT4_MAX } from '../storable.js';
import { CreateTaskBodySchema, TaskStatusSchema } from './task.js';

/** Most tasks (steps) one batch may hold, compensations not counted; checked with the DAG (a 400 naming `body.tasks`). */
const BATCH_MAX_TASKS = 500;
/** Most compensation tasks one step may name in `onFailure`. */
export const BATCH_MAX_COMPENSATIONS = 10;

export const BATCH_STATUSES = [
  'Running',
  'Compensating',
  'Completed',
  'Failed',
  'Compensated',
  'Cancelled',
] as const;
export const BatchStatusSchema = z.enum(BATCH_STATUSES);
export type BatchStatus = z.infer<typeof BatchStatusSchema>;

/**
 * `cancel-dependents`: after a step failed for good no new step starts; the running ones finish.
 * `continue`: only the failed step's (transitive) dependents are cancelled; independent branches go on.
 */
export const BatchFailurePolicySchema = z.enum(['cancel-dependents', 'continue']);
export type BatchFailurePolicy = z.infer<typeof BatchFailurePolicySchema>;

/** The fields of `POST /tasks` a batch task takes: no `scheduledAt` (a step runs when released), no display name. */
const TaskDefinitionSchema = CreateTaskBodySchema.omit({ scheduledAt: true, name: true });

export const BatchCompensationSchema = TaskDefinitionSchema;
export type BatchCompensation = z.infer<typeof BatchCompensationSchema>;

/** A step's name: what `dependsOn` of other steps refers to. Not a UUID, so that names and task ids never clash. */
const StepNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'may hold letters, digits, ".", "_" and "-", starting with a letter or digit',
  )
  .refine(
    (name) => !z.uuid().safeParse(name).success,
    'must not be a UUID (a UUID in dependsOn names a task)',
  );

export const BatchTaskBodySchema = TaskDefinitionSchema.extend({
  name: StepNameSchema,
  /** Names of steps of this batch, or ids of existing tasks of the organisation. */
  dependsOn: z.array(z.string().trim().min(1).max(100)).max(BATCH_MAX_TASKS).default([]),
  /** Run, in this order, when the batch fails after this step completed (the steps in reverse order of completion). */
  onFailure: z.array(BatchCompensationSchema).max(BATCH_MAX_COMPENSATIONS).default([]),
}).strict();
export type BatchTaskBody = z.infer<typeof BatchTaskBodySchema>;

export const CreateBatchBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    failurePolicy: BatchFailurePolicySchema.default('cancel-dependents'),
    // The size limit is checked with the DAG (a 400 naming `body.tasks`), not here, so that the
    // message says what the limit is.
    tasks: z.array(BatchTaskBodySchema).min(1),
  })
  .strict();
export type CreateBatchBody = z.infer<typeof CreateBatchBodySchema>;

export const BatchTaskSchema = z.object({
  taskId: z.uuid(),
  name: z.string(),
  role: z.enum(['step', 'compensation']),
  /** The step a compensation undoes. */
  compensates: z.string().optional(),
  type: z.string(),
  status: TaskStatusSchema,
  /** Names of steps of the batch, or ids of tasks outside it. */
  dependsOn: z.array(z.string()),
  /** Names of the steps that wait for this one. */
  dependents: z.array(z.string()),
  createdAt: z.string(),
  /** When the task became Pending (dispatchable); null while it waits. */
  releasedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type BatchTask = z.infer<typeof BatchTaskSchema>;

export const BatchCountsSchema = z.object({
  steps: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  running: z.number().int(),
  waiting: z.number().int(),
  compensations: z.number().int(),
});

export const BatchSummarySchema = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  status: BatchStatusSchema,
  failurePolicy: BatchFailurePolicySchema,
  createdBy: z.string(),
  correlationId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type BatchSummary = z.infer<typeof BatchSummarySchema>;

export const BatchSchema = BatchSummarySchema.extend({
  /** When the first step started; null before. */
  startedAt: z.string().nullable(),
  counts: BatchCountsSchema,
  tasks: z.array(BatchTaskSchema),
});
export type Batch = z.infer<typeof BatchSchema>;

export const ListBatchesQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(INT4_MAX).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  status: BatchStatusSchema.optional(),
});
export type ListBatchesQuery = z.infer<typeof ListBatchesQuerySchema>;

export const BatchListSchema = z.object({
  items: z.array(BatchSummarySchema),
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
});
export type BatchList = z.infer<typeof BatchListSchema>;

export const BATCH_EVENT_TYPES = [
  'BatchCreated',
  'ViableStepsDiscovered',
  'NoViableSteps',
  'StepCompleted',
  'StepFailed',
  'CompensationStarted',
  'BatchCompleted',
  'BatchFailed',
  'BatchCancelled',
] as const;

export const BatchEventSchema = z.object({
  id: z.string(),
  batchId: z.uuid(),
  taskId: z.uuid().nullable(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
});
export type BatchEvent = z.infer<typeof BatchEventSchema>;

export const BatchEventQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});
export type BatchEventQuery = z.infer<typeof BatchEventQuerySchema>;

export const BatchEventListSchema = z.object({
  items: z.array(BatchEventSchema),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});
export type BatchEventList = z.infer<typeof BatchEventListSchema>;
