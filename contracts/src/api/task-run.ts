import { z } from 'zod';
import { refuseUnstorableJson } from '../storable-json.js';
import { isUnstorableText } from '../storable.js';
import { ProblemSchema } from './problem.js';

/**
 * What started a run: `api` (the task's creation), `manual` (trigger/execute), `bulk` (a bulk
 * trigger item), `retry` (a user's retry of a failed task), `scheduled` (a reschedule or a cron
 * occurrence). `recurring` and `event` are reserved for recurring tasks and event subscriptions.
 */
export const TRIGGER_TYPES = ['api', 'manual', 'bulk', 'retry', 'scheduled', 'recurring', 'event'] as const;
export const TriggerTypeSchema = z.enum(TRIGGER_TYPES);
export type TriggerType = z.infer<typeof TriggerTypeSchema>;

/** Runs a task may hold waiting behind its current one. */
export const MAX_QUEUED_RUNS = 10;

/** Nesting of a trigger's `context` (`{}` is 1). */
export const TRIGGER_CONTEXT_MAX_DEPTH = 8;

const reasonText = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !isUnstorableText(value), 'must not contain NUL or lone surrogates');

export const TriggerContextSchema = z
  .record(z.string(), z.unknown())
  .superRefine(refuseUnstorableJson(TRIGGER_CONTEXT_MAX_DEPTH));

export const TriggerTaskBodySchema = z
  .object({
    /** Free JSON recorded on the run, its executions and its events. */
    context: TriggerContextSchema.default({}),
    triggerReason: reasonText.optional(),
    /** A task already running gets this run queued behind the current one instead of a 409. */
    queue: z.boolean().default(false),
  })
  .strict();
export type TriggerTaskBody = z.infer<typeof TriggerTaskBodySchema>;

export const TriggerResponseSchema = z.object({
  /** The id the run's first attempt carries once dispatched (GET /tasks/executions/{id}). */
  executionId: z.uuid(),
  /** From the median duration of the org's recent completed runs of the task's type; null without history. */
  estimatedCompletion: z.string().nullable(),
  taskId: z.uuid(),
  runNumber: z.number().int(),
  /** `true` when the run waits behind the current one. */
  queued: z.boolean(),
  status: z.string(),
});
export type TriggerResponse = z.infer<typeof TriggerResponseSchema>;

/** Bulk calls take 1 to this many items. */
export const BULK_MAX_ITEMS = 1000;

export const BulkTriggerItemSchema = z
  .object({
    taskId: z.uuid(),
    context: TriggerContextSchema.default({}),
    triggerReason: reasonText.optional(),
    queue: z.boolean().default(false),
  })
  .strict();

export const BulkTriggerBodySchema = z
  .object({
    tasks: z.array(BulkTriggerItemSchema).min(1).max(BULK_MAX_ITEMS),
    /** Apply every item in one transaction, or none of them. */
    allOrNothing: z.boolean().default(false),
  })
  .strict();
export type BulkTriggerBody = z.infer<typeof BulkTriggerBodySchema>;

/** One item's outcome: `status` is the HTTP status the single call would have answered. */
export const BulkItemResultSchema = z.object({
  index: z.number().int(),
  taskId: z.string(),
  status: z.number().int(),
  executionId: z.uuid().optional(),
  estimatedCompletion: z.string().nullable().optional(),
  nextRunAt: z.string().nullable().optional(),
  problem: ProblemSchema.optional(),
});
export type BulkItemResult = z.infer<typeof BulkItemResultSchema>;

export const BulkResultSchema = z.object({
  allOrNothing: z.boolean(),
  /** False when `allOrNothing` was asked and an item failed: nothing was changed. */
  applied: z.boolean(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  /** Indexes of the items that failed. */
  failedItems: z.array(z.number().int()),
  results: z.array(BulkItemResultSchema),
});
export type BulkResult = z.infer<typeof BulkResultSchema>;
