import { z } from 'zod';
import { INT4_MAX } from '../storable.js';
import { LogStreamNameSchema } from '../messages/log-chunk.js';
import { ExecutionStatusSchema } from './execution.js';

export const LogLineViewSchema = z.object({
  seq: z.number().int(),
  stream: LogStreamNameSchema,
  ts: z.string(),
  text: z.string(),
});
export type LogLineView = z.infer<typeof LogLineViewSchema>;

/** Lines that are not there: dropped to keep the log bounded (`truncated`), or by the agent. */
export const LogGapSchema = z.object({
  afterSeq: z.number().int(),
  beforeSeq: z.number().int(),
  bytes: z.number().int(),
  reason: z.enum(['truncated', 'agent-dropped', 'slow-client']),
});
export type LogGap = z.infer<typeof LogGapSchema>;

export const ExecutionLogQuerySchema = z.object({
  after: z.coerce.number().int().min(0).max(INT4_MAX).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

/** `GET /api/v1/tasks/executions/{executionId}/logs`: stored lines with seq > `after`, in order. */
export const ExecutionLogPageSchema = z.object({
  executionId: z.uuid(),
  items: z.array(LogLineViewSchema),
  gaps: z.array(LogGapSchema),
  /** Bytes of output not kept (head and tail are; the middle is dropped past the limit). */
  truncatedBytes: z.number().int(),
  /** Pass as `after` to read on; null when nothing more is stored yet. */
  nextAfter: z.number().int().nullable(),
  ended: z.boolean(),
  status: ExecutionStatusSchema,
});
export type ExecutionLogPage = z.infer<typeof ExecutionLogPageSchema>;

/** Frames of `GET …/logs/stream` (WebSocket, JSON text frames, server → client). */
export const LogStreamFrameSchema = z.discriminatedUnion('type', [
  LogLineViewSchema.extend({ type: z.literal('line') }),
  LogGapSchema.extend({ type: z.literal('gap') }),
  z.object({
    type: z.literal('end'),
    status: ExecutionStatusSchema,
    exitCode: z.number().int().nullable(),
    truncatedBytes: z.number().int(),
  }),
]);
export type LogStreamFrame = z.infer<typeof LogStreamFrameSchema>;

/** Close codes of the log stream. */
export const LOG_STREAM_CLOSE = {
  /** The execution ended and every line was sent. */
  done: 1000,
  /** The server is shutting down: reconnect with `after` = the last seq received. */
  goingAway: 1001,
  /** The server failed; reconnect later. */
  internalError: 1011,
} as const;
