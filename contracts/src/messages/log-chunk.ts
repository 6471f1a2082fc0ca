import { z } from 'zod';
import { INT4_MAX, int4, isoTimestamp, programText } from '../storable.js';

export const LOG_CHUNK = 'LogChunk';
export const LOG_CHUNK_SCHEMA_VERSION = 1;
/** A longer line is split by the agent into several lines of at most this many UTF-8 bytes. */
export const LOG_LINE_MAX_BYTES = 16 * 1024;
/** Lines in one chunk, at most; the agent also closes a chunk after a few milliseconds. */
export const LOG_CHUNK_MAX_LINES = 1000;

export const LogStreamNameSchema = z.enum(['stdout', 'stderr']);
export type LogStreamName = z.infer<typeof LogStreamNameSchema>;

/**
 * One line of an execution's output. `seq` is stamped by the agent: 1 for the first line of the
 * execution, then +1 per line, across both streams, never reused (so `after=0` means "from the
 * start"). A line the agent had to drop
 * still used its number, so a hole in the numbers is a gap.
 */
export const LogLineSchema = z.object({
  seq: int4(1),
  stream: LogStreamNameSchema,
  /** When the agent read the line from the program. */
  ts: isoTimestamp(),
  /**
   * Without its line ending; at most LOG_LINE_MAX_BYTES bytes of UTF-8 (a longer one is clamped on
   * receipt). NUL becomes U+FFFD: programs do print it, and PostgreSQL text cannot hold it.
   */
  text: programText(LOG_LINE_MAX_BYTES),
});
export type LogLine = z.infer<typeof LogLineSchema>;

/**
 * Agent → control plane, on the logs exchange (apart from commands and reports): a few
 * milliseconds' worth of one execution's output lines, in `seq` order.
 */
export const LogChunkSchema = z.object({
  taskId: z.uuid(),
  executionId: z.uuid(),
  lines: z.array(LogLineSchema).min(1).max(LOG_CHUNK_MAX_LINES),
  /**
   * Bytes of output the agent dropped just before the first line of this chunk because the
   * broker could not take them fast enough (its buffer is bounded); their seq numbers are skipped.
   */
  droppedBytes: z
    .number()
    .int()
    .min(0)
    .transform((bytes) => Math.min(bytes, INT4_MAX))
    .default(0),
});
export type LogChunk = z.infer<typeof LogChunkSchema>;
