import { z } from 'zod';
import { isUnstorableText } from '../storable.js';

/**
 * One row of a task's append-only audit log: seed 000's event shape (`eventId`, `eventType`,
 * `timestamp`, `actor`, `previousState`, `newState`, `metadata`) alongside the fields older clients
 * read (`id`, `type`, `fromStatus`, `toStatus`, `data`, `occurredAt`).
 */
export const TaskEventSchema = z.object({
  eventId: z.string(),
  eventType: z.string(),
  taskId: z.uuid(),
  executionId: z.uuid().nullable(),
  timestamp: z.string(),
  actor: z.string(),
  previousState: z.string().nullable(),
  newState: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  correlationId: z.string(),
  id: z.string(),
  type: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  messageId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
  recordedAt: z.string(),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

export const TaskEventListSchema = z.object({
  items: z.array(TaskEventSchema),
  /**
   * Pass as `cursor` for the next page: it points after this page's last event. Null on an empty
   * page: no events after the cursor now; ask again later with the same cursor to follow the log.
   */
  nextCursor: z.string().nullable(),
  /** The page is full (`limit` events): more may follow at once. */
  hasMore: z.boolean(),
});
export type TaskEventList = z.infer<typeof TaskEventListSchema>;

export const EVENT_QUERY_MAX_LIMIT = 1000;
export const EVENT_QUERY_DEFAULT_LIMIT = 100;

/** At most this many names in `types`; each of at most `EVENT_TYPE_MAX_LENGTH` characters. */
export const EVENT_QUERY_MAX_TYPES = 50;
export const EVENT_TYPE_MAX_LENGTH = 64;
export const EVENT_ACTOR_MAX_LENGTH = 200;

/** An event type as the API names them: letters and digits, starting with a letter (`TaskTriggered`). */
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9]*$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

/**
 * `types=A,B` (also `types=A&types=B`): the distinct names, in the order first given. Each is
 * trimmed; an empty element is refused rather than read as "no filter".
 */
const EventTypesParam = z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
  const names = (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(','));
  const distinct = [...new Set(names.map((name) => name.trim()))];
  const bad = distinct.find((name) => name.length > EVENT_TYPE_MAX_LENGTH || !EVENT_TYPE.test(name));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        `${JSON.stringify(bad)} is not an event type: a comma-separated list of names of letters ` +
        `and digits (at most ${EVENT_TYPE_MAX_LENGTH} characters each) is expected`,
    });
    return z.NEVER;
  }
  if (distinct.length > EVENT_QUERY_MAX_TYPES) {
    ctx.addIssue({ code: 'custom', message: `at most ${EVENT_QUERY_MAX_TYPES} event types` });
    return z.NEVER;
  }
  return distinct;
});

/** A UTC date (`2025-01-31`) or a date-time with its offset (`2025-01-31T10:00:00Z`, `…+02:00`). */
const EventTimeParam = z
  .string()
  .refine(
    (value) =>
      (DATE_ONLY.test(value) ? isoDate.safeParse(value).success : isoDateTime.safeParse(value).success) &&
      !value.startsWith('0000'),
    'a date (2025-01-31) or a date-time with an offset (2025-01-31T10:00:00Z) is expected',
  );

/**
 * Filters and paging of `GET /tasks/{id}/events` and `GET /events`. Unknown parameters are
 * ignored, as on the other list routes. `from` and `to` are inclusive; a bare date is a UTC day,
 * so `to=2025-01-31` takes in the whole of that day.
 */
export const EventQuerySchema = z.object({
  types: EventTypesParam.optional().describe(
    'Comma-separated event types (`TaskTriggered,TaskRescheduled`); only events of these types',
  ),
  from: EventTimeParam.optional().describe(
    'Only events that occurred at or after this instant; a bare date is 00:00 UTC of that day',
  ),
  to: EventTimeParam.optional().describe(
    'Only events that occurred at or before this instant; a bare date takes in that whole UTC day',
  ),
  actor: z
    .string()
    .min(1)
    .max(EVENT_ACTOR_MAX_LENGTH)
    .refine((value) => !isUnstorableText(value), 'must not contain NUL or lone surrogates')
    .optional()
    .describe('Only events of this actor, exactly as the events name it (`user:alice`, `node:node-7`)'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(EVENT_QUERY_MAX_LIMIT)
    .default(EVENT_QUERY_DEFAULT_LIMIT)
    .describe(`Events per page, 1 to ${EVENT_QUERY_MAX_LIMIT}`),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'the nextCursor of a previous page')
    .optional()
    .describe('The `nextCursor` of the previous page, with the same filters (`limit` may change)'),
});
export type EventQuery = z.infer<typeof EventQuerySchema>;
