import type { ExecutionLogPage } from '@meridian/contracts/api/execution-log';
import { NotFoundError } from '../domain/errors.js';
import { isExecutionFinished } from '../domain/execution-status.js';
import { pageGaps } from '../logs/store/log-gaps.js';
import { readStoredLogPage } from '../logs/store/read-log-page.js';
import type { Actor } from './actor.js';
import type { AppDeps } from './app-deps.js';

export interface ExecutionLogQuery {
  /** Lines with seq greater than this; 0 for the start (seqs begin at 1). */
  after: number;
  limit: number;
}

/**
 * One page of an execution's stored log: lines with seq > `after` in seq order (at most `limit`),
 * the holes in that range (the truncated middle with its byte count, bytes the agent dropped),
 * and whether the execution has ended. Another organisation's execution is not found.
 */
export async function readExecutionLog(
  deps: Pick<AppDeps, 'dataSource'>,
  actor: Actor,
  executionId: string,
  query: ExecutionLogQuery,
): Promise<ExecutionLogPage> {
  const page = await readStoredLogPage(deps.dataSource, actor.orgId, executionId, query.after, query.limit);
  if (!page) throw new NotFoundError('execution', executionId);
  const hasMore = page.lines.length > query.limit;
  const lines = hasMore ? page.lines.slice(0, query.limit) : page.lines;
  return {
    executionId,
    items: lines.map(({ seq, stream, ts, text }) => ({ seq, stream, ts, text })),
    gaps: pageGaps(query.after, {
      lines,
      storedBefore: page.storedBefore,
      hasMore,
      truncation: page.truncation,
    }),
    truncatedBytes: page.truncation?.bytes ?? 0,
    nextAfter: hasMore ? lines.at(-1)!.seq : null,
    ended: isExecutionFinished(page.status),
    status: page.status,
  };
}
