import { z } from 'zod';

/** One row of a task's append-only audit log. */
export const TaskEventSchema = z.object({
  id: z.string(),
  taskId: z.uuid(),
  executionId: z.uuid().nullable(),
  type: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  actor: z.string(),
  correlationId: z.string(),
  messageId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
  recordedAt: z.string(),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

export const TaskEventListSchema = z.object({ items: z.array(TaskEventSchema) });
