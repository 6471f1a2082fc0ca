import { z } from 'zod';

export const CANCEL_TASK = 'CancelTask';
export const CANCEL_TASK_SCHEMA_VERSION = 1;

/** Command: stop one execution. The agent sends SIGTERM, then SIGKILL after the grace period. */
export const CancelTaskSchema = z.object({
  taskId: z.uuid(),
  executionId: z.uuid(),
  reason: z.string().max(1000),
  gracePeriodSeconds: z.number().int().min(0).max(3600),
});
export type CancelTask = z.infer<typeof CancelTaskSchema>;
