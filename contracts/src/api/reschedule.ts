import { z } from 'zod';
import { isUnstorableText } from '../storable.js';
import { BULK_MAX_ITEMS } from './task-run.js';

/**
 * A delay: a number with a unit (`90s`, `5m`, `2h`, `1d`) or an ISO-8601 duration (`PT5M`,
 * `P1DT2H`). Parsed by the control plane's `parseDelay`; the schema only bounds its length.
 */
const delayText = z.string().trim().min(1).max(40);

/** Longest delay a reschedule accepts. */
export const MAX_RESCHEDULE_DELAY_MS = 366 * 86_400_000;

export const RESCHEDULE_STRATEGIES = ['immediate', 'delayed', 'exponential_backoff', 'cron'] as const;

const STRATEGY_FIELDS = {
  immediate: {},
  delayed: { delay: delayText },
  exponential_backoff: {
    baseDelay: delayText,
    maxDelay: delayText,
    currentRetryCount: z.number().int().min(0).max(64),
  },
  cron: {
    /** Five fields, or six with seconds first. */
    expression: z.string().trim().min(1).max(200),
    /** IANA time zone; the occurrences follow its clock across DST changes. */
    timezone: z.string().trim().min(1).max(64).default('UTC'),
  },
} as const;

/** `conditional` (seed 000) is a known name, but it belongs to workflows: say so rather than "invalid". */
function strategyError(issue: { code?: string; input?: unknown }): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const strategy = (issue.input as { strategy?: unknown } | undefined)?.strategy;
  const known = `one of ${RESCHEDULE_STRATEGIES.join(', ')}`;
  if (strategy === 'conditional') {
    return `conditional triggering belongs to workflows (not available on this route); use ${known}`;
  }
  return `must be ${known}`;
}

function strategies<Extra extends z.ZodRawShape>(extra: Extra) {
  return z.discriminatedUnion(
    'strategy',
    [
      z.object({ strategy: z.literal('immediate'), ...extra, ...STRATEGY_FIELDS.immediate }).strict(),
      z.object({ strategy: z.literal('delayed'), ...extra, ...STRATEGY_FIELDS.delayed }).strict(),
      z
        .object({
          strategy: z.literal('exponential_backoff'),
          ...extra,
          ...STRATEGY_FIELDS.exponential_backoff,
        })
        .strict(),
      z.object({ strategy: z.literal('cron'), ...extra, ...STRATEGY_FIELDS.cron }).strict(),
    ],
    { error: strategyError },
  );
}

export const RescheduleBodySchema = strategies({});
export type RescheduleBody = z.infer<typeof RescheduleBodySchema>;
export type RescheduleStrategy = RescheduleBody['strategy'];

export const RescheduleResponseSchema = z.object({
  taskId: z.uuid(),
  strategy: z.enum(RESCHEDULE_STRATEGIES),
  /** When the task's next run starts (for cron: the next occurrence). */
  nextRunAt: z.string(),
  /** The delay applied, for `delayed` and `exponential_backoff` (jitter included). */
  delayMs: z.number().int().optional(),
  expression: z.string().optional(),
  timezone: z.string().optional(),
  status: z.string(),
  /** The id the new run's first attempt carries, when the reschedule queued a run. */
  executionId: z.uuid().optional(),
  previousSchedule: z
    .object({
      nextRunAt: z.string().nullable(),
      schedule: z.record(z.string(), z.unknown()).nullable(),
    })
    .optional(),
});
export type RescheduleResponse = z.infer<typeof RescheduleResponseSchema>;

export const BulkRescheduleItemSchema = strategies({ taskId: z.uuid() });
export type BulkRescheduleItem = z.infer<typeof BulkRescheduleItemSchema>;

export const BulkRescheduleBodySchema = z
  .object({
    tasks: z.array(BulkRescheduleItemSchema).min(1).max(BULK_MAX_ITEMS),
    /** Apply every item in one transaction, or none of them. */
    allOrNothing: z.boolean().default(false),
  })
  .strict();
export type BulkRescheduleBody = z.infer<typeof BulkRescheduleBodySchema>;

/** Body of POST /tasks/{id}/pause and /resume: optional; the reason goes into the event. */
export const PauseTaskBodySchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .refine((value) => !isUnstorableText(value), 'must not contain NUL or lone surrogates')
      .optional(),
  })
  .strict();
export type PauseTaskBody = z.infer<typeof PauseTaskBodySchema>;
