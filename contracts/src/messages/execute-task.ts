import { z } from 'zod';

export const EXECUTE_TASK = 'ExecuteTask';
export const EXECUTE_TASK_SCHEMA_VERSION = 1;

/** Command: the control plane asks the agent of one node to run one attempt of a task. */
export const ExecuteTaskSchema = z.object({
  taskId: z.uuid(),
  executionId: z.uuid(),
  attempt: z.number().int().min(1),
  orgId: z.string().min(1),
  type: z.string().min(1).max(100),
  target: z.object({ type: z.string().min(1).max(100), id: z.string().min(1).max(200) }),
  payload: z.record(z.string(), z.unknown()),
  timeoutSeconds: z.number().int().min(1),
  /** Absolute time after which the agent must stop the work and report it timed out. */
  deadline: z.iso.datetime({ offset: true }),
});
export type ExecuteTask = z.infer<typeof ExecuteTaskSchema>;
