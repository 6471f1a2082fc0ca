import { z } from 'zod';
import { pageOf } from './task.js';

export const EXECUTION_STATUSES = [
  'Dispatched',
  'Accepted',
  'Running',
  'Completed',
  'Failed',
  'Timeout',
  'Cancelling',
  'Cancelled',
  /** Its node stopped heartbeating: given up by the control plane, counted as a retryable failure. */
  'AgentLost',
] as const;
export const ExecutionStatusSchema = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;

export const ExecutionSchema = z.object({
  executionId: z.uuid(),
  taskId: z.uuid(),
  attempt: z.number().int(),
  status: ExecutionStatusSchema,
  nodeId: z.string(),
  agentId: z.string().nullable(),
  dispatchedAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  deadline: z.string(),
  durationMs: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  progressPercent: z.number().nullable(),
  progressMessage: z.string().nullable(),
  output: z.string().nullable(),
  errorOutput: z.string().nullable(),
  outputTruncatedBytes: z.number().int(),
  errorMessage: z.string().nullable(),
  result: z.unknown().nullable(),
  /** The run this attempt belongs to (null: recorded before runs existed). */
  runId: z.uuid().nullable(),
  runNumber: z.number().int(),
  /** What started the run: its type, reason and context, as given to the trigger. */
  trigger: z.object({
    type: z.string(),
    reason: z.string().nullable(),
    context: z.record(z.string(), z.unknown()),
  }),
});
export type Execution = z.infer<typeof ExecutionSchema>;

export const ExecutionListSchema = pageOf(ExecutionSchema);
export type ExecutionList = z.infer<typeof ExecutionListSchema>;
