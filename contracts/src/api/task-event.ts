import { z } from 'zod';

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
  /** Pass as `cursor` for the next page; null: no more events now (later ones may still come). */
  nextCursor: z.string().nullable(),
});
export type TaskEventList = z.infer<typeof TaskEventListSchema>;

export const EVENT_QUERY_MAX_LIMIT = 1000;
export const EVENT_QUERY_DEFAULT_LIMIT = 100;
