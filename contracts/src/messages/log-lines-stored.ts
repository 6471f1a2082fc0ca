import { z } from 'zod';
import { LogGapSchema } from '../api/execution-log.js';
import { LogLineSchema } from './log-chunk.js';

export const LOG_LINES_STORED = 'LogLinesStored';

/**
 * Control plane → control plane, on the live-logs exchange: lines one replica has just stored
 * (committed), for every replica whose WebSocket clients watch that execution. Because a line is
 * announced only once stored, a client that subscribes first and then reads the stored backlog
 * misses nothing; duplicates are dropped by seq.
 */
export const LogLinesStoredSchema = z.object({
  executionId: z.uuid(),
  orgId: z.string(),
  lines: z.array(LogLineSchema),
  /** Holes this batch made known (lines the agent dropped), in seq order. */
  gaps: z.array(LogGapSchema).default([]),
});
export type LogLinesStored = z.infer<typeof LogLinesStoredSchema>;
