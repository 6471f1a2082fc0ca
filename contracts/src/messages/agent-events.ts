import { z } from 'zod';
import { programJson } from '../storable-json.js';
import { INT4_MAX, INT4_MIN, clampText, int4, programText, toStorableText } from '../storable.js';
import {
  ERROR_MAX_BYTES,
  OUTPUT_STREAM_MAX_BYTES,
  PROGRESS_MESSAGE_MAX_BYTES,
  REASON_MAX_BYTES,
  RESULT_MAX_BYTES,
  RESULT_MAX_DEPTH,
} from './limits.js';

export const AGENT_EVENT_SCHEMA_VERSION = 1;

/**
 * Fields every execution report carries. `sequence` is stamped by the agent, starts at 0 and grows
 * by one per report of that execution: the control plane decides by it, not by arrival order.
 */
const ExecutionReportFields = {
  taskId: z.uuid(),
  executionId: z.uuid(),
  sequence: int4(0),
};

/**
 * On the end reports: the seq of the execution's last log line (0 when it printed nothing), so
 * that a log stream knows when it has every line. Optional: older agents do not send it.
 */
const LastLogSeq = { lastLogSeq: int4(0).optional() };

const UINT32_MAX = 4_294_967_295;

/**
 * A process's exit code, in an `integer` column. Windows reports unsigned 32-bit codes
 * (0xC0000005 = 3221225477): those past INT4_MAX are stored as the same 32 bits read signed
 * (-1073741819), as Windows' own tools print them; anything wider is refused.
 */
export const ExitCodeSchema = z
  .number()
  .int()
  .min(INT4_MIN)
  .max(UINT32_MAX, 'must fit 32 bits')
  .transform((code) => (code > INT4_MAX ? code | 0 : code));

/** Counts of bytes dropped: information only, so a count past INT4_MAX saturates there. */
const droppedBytes = () =>
  z
    .number()
    .int()
    .min(0)
    .transform((bytes) => Math.min(bytes, INT4_MAX));

/**
 * Output captured from the process, each stream cut to the agent's limit (head and tail kept).
 * A stream past OUTPUT_STREAM_MAX_BYTES is clamped on receipt too, and what that drops is added to
 * `truncatedBytes`.
 */
export const CapturedOutputSchema = z
  .object({
    stdout: z.string(),
    stderr: z.string(),
    truncatedBytes: droppedBytes().default(0),
  })
  .transform(clampCapturedOutput);

export interface CapturedOutput {
  stdout: string;
  stderr: string;
  truncatedBytes: number;
}

/** Output made storable and each stream clamped to OUTPUT_STREAM_MAX_BYTES, counting what that drops. */
export function clampCapturedOutput(output: CapturedOutput): CapturedOutput {
  const stdout = clampText(toStorableText(output.stdout), OUTPUT_STREAM_MAX_BYTES);
  const stderr = clampText(toStorableText(output.stderr), OUTPUT_STREAM_MAX_BYTES);
  return {
    stdout: stdout.text,
    stderr: stderr.text,
    truncatedBytes: Math.min(INT4_MAX, output.truncatedBytes + stdout.droppedBytes + stderr.droppedBytes),
  };
}

export const TaskAcceptedSchema = z.object({ ...ExecutionReportFields });
export type TaskAccepted = z.infer<typeof TaskAcceptedSchema>;

export const TaskStartedSchema = z.object({
  ...ExecutionReportFields,
  pid: int4(0).nullable().optional(),
});
export type TaskStarted = z.infer<typeof TaskStartedSchema>;

export const TaskProgressSchema = z.object({
  ...ExecutionReportFields,
  percent: z.number().min(0).max(100),
  message: programText(PROGRESS_MESSAGE_MAX_BYTES).optional(),
});
export type TaskProgress = z.infer<typeof TaskProgressSchema>;

export const TaskCompletedSchema = z.object({
  ...ExecutionReportFields,
  exitCode: ExitCodeSchema,
  durationMs: int4(0),
  /** Any JSON, made storable; past RESULT_MAX_BYTES or RESULT_MAX_DEPTH, `{ truncated: true, reason }`. */
  result: programJson({ maxBytes: RESULT_MAX_BYTES, maxDepth: RESULT_MAX_DEPTH }).optional(),
  output: CapturedOutputSchema.optional(),
  ...LastLogSeq,
});
export type TaskCompleted = z.infer<typeof TaskCompletedSchema>;

export const TaskFailedSchema = z.object({
  ...ExecutionReportFields,
  error: programText(ERROR_MAX_BYTES),
  exitCode: ExitCodeSchema.nullable(),
  retryable: z.boolean(),
  /** True when the agent stopped the work because its deadline passed. */
  timedOut: z.boolean().optional(),
  durationMs: int4(0).optional(),
  output: CapturedOutputSchema.optional(),
  ...LastLogSeq,
});
export type TaskFailed = z.infer<typeof TaskFailedSchema>;

export const TaskCancelledSchema = z.object({
  ...ExecutionReportFields,
  reason: programText(REASON_MAX_BYTES).optional(),
  exitCode: ExitCodeSchema.nullable().optional(),
  durationMs: int4(0).optional(),
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
