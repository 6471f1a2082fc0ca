import { z } from 'zod';

export const AGENT_EVENT_SCHEMA_VERSION = 1;

/**
 * Fields every execution report carries. `sequence` is stamped by the agent, starts at 0 and grows
 * by one per report of that execution: the control plane decides by it, not by arrival order.
 */
const ExecutionReportFields = {
  taskId: z.uuid(),
  executionId: z.uuid(),
  sequence: z.number().int().min(0),
};

/**
 * On the end reports: the seq of the execution's last log line (0 when it printed nothing), so
 * that a log stream knows when it has every line. Optional: older agents do not send it.
 */
const LastLogSeq = { lastLogSeq: z.number().int().min(0).optional() };

/** Output captured from the process, each stream cut to the agent's limit (head and tail kept). */
export const CapturedOutputSchema = z.object({
  stdout: z.string(),
  stderr: z.string(),
  truncatedBytes: z.number().int().min(0).default(0),
});
export type CapturedOutput = z.infer<typeof CapturedOutputSchema>;

export const TaskAcceptedSchema = z.object({ ...ExecutionReportFields });
export type TaskAccepted = z.infer<typeof TaskAcceptedSchema>;

export const TaskStartedSchema = z.object({
  ...ExecutionReportFields,
  pid: z.number().int().nullable().optional(),
});
export type TaskStarted = z.infer<typeof TaskStartedSchema>;

export const TaskProgressSchema = z.object({
  ...ExecutionReportFields,
  percent: z.number().min(0).max(100),
  message: z.string().max(2000).optional(),
});
export type TaskProgress = z.infer<typeof TaskProgressSchema>;

export const TaskCompletedSchema = z.object({
  ...ExecutionReportFields,
  exitCode: z.number().int(),
  durationMs: z.number().int().min(0),
  result: z.unknown().optional(),
  output: CapturedOutputSchema.optional(),
  ...LastLogSeq,
});
export type TaskCompleted = z.infer<typeof TaskCompletedSchema>;

export const TaskFailedSchema = z.object({
  ...ExecutionReportFields,
  error: z.string().max(10_000),
  exitCode: z.number().int().nullable(),
  retryable: z.boolean(),
  /** True when the agent stopped the work because its deadline passed. */
  timedOut: z.boolean().optional(),
  durationMs: z.number().int().min(0).optional(),
  output: CapturedOutputSchema.optional(),
  ...LastLogSeq,
});
export type TaskFailed = z.infer<typeof TaskFailedSchema>;

export const TaskCancelledSchema = z.object({
  ...ExecutionReportFields,
  reason: z.string().max(1000).optional(),
  exitCode: z.number().int().nullable().optional(),
  durationMs: z.number().int().min(0).optional(),
  output: CapturedOutputSchema.optional(),
  ...LastLogSeq,
});
export type TaskCancelled = z.infer<typeof TaskCancelledSchema>;

export const EXECUTION_REPORT_SCHEMAS = {
  TaskAccepted: TaskAcceptedSchema,
  TaskStarted: TaskStartedSchema,
  TaskProgress: TaskProgressSchema,
  TaskCompleted: TaskCompletedSchema,
  TaskFailed: TaskFailedSchema,
  TaskCancelled: TaskCancelledSchema,
} as const;
export type ExecutionReportType = keyof typeof EXECUTION_REPORT_SCHEMAS;
export const EXECUTION_REPORT_TYPES = Object.keys(EXECUTION_REPORT_SCHEMAS) as ExecutionReportType[];
