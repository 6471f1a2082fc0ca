import { z } from 'zod';
import { pageOf } from './task.js';

/** A message that landed on a dead-letter queue, as `GET /api/v1/admin/dead-letters` lists it. */
export const DeadLetterSummarySchema = z.object({
  id: z.uuid(),
  /**
   * The organisation of its enrolled sender, else the one the message names (its execution's,
   * task's or node's, else its payload's); null when none.
   */
  orgId: z.string().nullable(),
  queue: z.string(),
  reason: z.string(),
  messageType: z.string().nullable(),
  messageId: z.string().nullable(),
  correlationId: z.string().nullable(),
  /**
   * The broker user that published the original (its validated AMQP `user_id`): an enrolled node's
   * `<prefix>.node.<id>`; null when it had none (the shared login of an unenrolled agent).
   * A re-drive keeps it: the message is heard as from that sender again.
   */
  sender: z.string().nullable(),
  /** Where a re-drive publishes: the exchange the dead-letter queue's source queue is bound to. */
  originalExchange: z.string(),
  originalRoutingKey: z.string().nullable(),
  /** Size of the body as received, in bytes; null when it could not be read. */
  bodySize: z.number().int().nullable(),
  /** True when only the first bytes of the body were kept: such a message cannot be re-driven. */
  bodyTruncated: z.boolean(),
  deadLetteredAt: z.string(),
  recordedAt: z.string(),
  redrivenAt: z.string().nullable(),
  redrivenBy: z.string().nullable(),
});
export type DeadLetterSummary = z.infer<typeof DeadLetterSummarySchema>;

export const DeadLetterSchema = DeadLetterSummarySchema.extend({
  /** Message headers, bounded in number, depth and size. */
  headers: z.record(z.string(), z.unknown()),
  /** The stored body: UTF-8 text when it is, else base64. */
  body: z.string().nullable(),
  bodyEncoding: z.enum(['utf8', 'base64']),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

export const DeadLetterListSchema = pageOf(DeadLetterSummarySchema);
export type DeadLetterList = z.infer<typeof DeadLetterListSchema>;

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

/** Filters shared by the list and the bulk re-drive. */
export const DeadLetterFilterSchema = z
  .object({
    queue: z.string().min(1).max(300).optional(),
    type: z.string().min(1).max(200).optional(),
    /** Dead-lettered at or after. */
    from: z.iso.datetime({ offset: true }).optional(),
    /** Dead-lettered before. */
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type DeadLetterFilter = z.infer<typeof DeadLetterFilterSchema>;

export const ListDeadLettersQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  queue: z.string().min(1).max(300).optional(),
  type: z.string().min(1).max(200).optional(),
  redriven: booleanQuery.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type ListDeadLettersQuery = z.infer<typeof ListDeadLettersQuerySchema>;

export const REDRIVE_MAX_COUNT = 1000;

/** Either `ids` (each re-driven if it can be) or `filter` (the oldest `limit` not yet re-driven). */
export const BulkRedriveBodySchema = z.union([
  z.object({ ids: z.array(z.uuid()).min(1).max(REDRIVE_MAX_COUNT) }).strict(),
  z
    .object({
      filter: DeadLetterFilterSchema,
      limit: z.number().int().min(1).max(REDRIVE_MAX_COUNT).default(100),
    })
    .strict(),
]);
export type BulkRedriveBody = z.infer<typeof BulkRedriveBodySchema>;

export const REDRIVE_OUTCOMES = ['redriven', 'not_found', 'already_redriven', 'body_unavailable'] as const;
export const RedriveOutcomeSchema = z.enum(REDRIVE_OUTCOMES);
export type RedriveOutcome = z.infer<typeof RedriveOutcomeSchema>;

export const BulkRedriveResultSchema = z.object({
  redriven: z.number().int(),
  results: z.array(z.object({ id: z.uuid(), outcome: RedriveOutcomeSchema })),
});
export type BulkRedriveResult = z.infer<typeof BulkRedriveResultSchema>;
