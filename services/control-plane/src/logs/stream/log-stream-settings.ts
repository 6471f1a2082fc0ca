import type { ExecutionLogPage } from '@meridian/contracts/api/execution-log';
import type { Actor } from '../../app/actor.js';
import type { AppDeps } from '../../app/app-deps.js';
import type { Config } from '../../config.js';

/** The store's paged read (`app/read-execution-log.ts`): lines with seq > `after`, gaps, and the end. */
export type ReadExecutionLog = (
  deps: AppDeps,
  actor: Actor,
  executionId: string,
  query: { after: number; limit: number },
) => Promise<ExecutionLogPage>;

export interface LogStreamSettings {
  /** A socket with more than this many bytes not yet sent gets no more lines until it drains. */
  maxBufferedBytes: number;
  /** Each socket is pinged this often; one that missed the previous pong is terminated. */
  pingMs: number;
  /** How often a stream reads its execution's row: the end, and lines a lost live message carried. */
  pollMs: number;
  /** When the end report names no last seq: quiet time after the end before the end frame. */
  endGraceMs: number;
  /**
   * How long a hole nobody reported as a gap is waited for (lines still on their way, from another
   * replica or after the end report) before it is announced as a gap.
   */
  holeWaitMs: number;
  /** Lines per store read. */
  pageSize: number;
}

export const DEFAULT_LOG_STREAM_PAGE_SIZE = 1000;

export function logStreamSettingsFrom(config: Config): LogStreamSettings {
  return {
    maxBufferedBytes: config.LOG_STREAM_MAX_BUFFERED_BYTES,
    pingMs: config.LOG_STREAM_PING_MS,
    pollMs: config.LOG_STREAM_POLL_MS,
    endGraceMs: config.LOG_STREAM_END_GRACE_MS,
    holeWaitMs: config.LOG_STREAM_HOLE_WAIT_MS,
    pageSize: DEFAULT_LOG_STREAM_PAGE_SIZE,
  };
}
