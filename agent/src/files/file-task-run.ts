import { dirname } from 'node:path';
import { SERVER_TARGET_TYPE } from '@meridian/contracts/task-types/registry';
import { readAbortReason } from '../abort-reason.js';
import type { HandlerContext, HandlerResult } from '../handlers/handler.js';
import type { ServerHost } from '../servers/server-host.js';
import { recoverInterruptedSwaps } from './directory-swap.js';
import { FileTaskError, describeError } from './file-task-error.js';

/** The server a file task works on. */
export interface FileTaskTarget {
  serverId: string;
  /** Absolute: `<root>/<serverId>` (may not exist yet). */
  directory: string;
  /** The servers root, where staging directories go (same file system: renames are atomic). */
  root: string;
}

/** File system errors that may pass by themselves (a full disk being cleaned up, a busy device). */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EIO', 'EBUSY', 'EAGAIN', 'EMFILE', 'ENFILE']);

/**
 * What every file task does around its work: checks that it targets a server, refuses a running
 * server unless allowed, holds the server's queue (`host.exclusive`) so that no start or other
 * file task of it runs meanwhile, reports the start, and turns every error into a failed result
 * (never throws).
 */
export async function runFileTask(
  ctx: HandlerContext<unknown>,
  host: ServerHost,
  options: {
    allowRunning?: boolean;
    /** The work calls ctx.started() itself (with the pid of the process it spawns). */
    reportsStart?: boolean;
  },
  work: (target: FileTaskTarget) => Promise<HandlerResult>,
): Promise<HandlerResult> {
  const { target } = ctx.execution;
  if (target.type !== SERVER_TARGET_TYPE) {
    return failed(
      `targetType must be "${SERVER_TARGET_TYPE}" for a ${ctx.execution.type} task, not "${target.type}"`,
      false,
    );
  }
  const serverId = target.id;
  const logger = ctx.logger.child({ serverId });
  try {
    const directory = host.directoryOf(serverId);
    return await host.exclusive(serverId, ctx.signal, async () => {
      if (options.allowRunning === false && host.isRunning(serverId)) {
        return failed(`server ${serverId} is running: stop it first, or set payload.allowRunning`, false);
      }
      const root = dirname(directory);
      await recoverInterruptedSwaps(root, serverId, directory);
      if (!options.reportsStart) ctx.started();
      return work({ serverId, directory, root });
    });
  } catch (error) {
    if (ctx.signal.aborted) {
      const reason = readAbortReason(ctx.signal);
      return failed(`stopped: ${reason?.kind ?? 'aborted'}`, true);
    }
    if (error instanceof FileTaskError) return failed(error.message, error.retryable);
    logger.warn({ err: error }, 'file task failed');
    const code = (error as NodeJS.ErrnoException).code;
    return failed(describeError(error), code !== undefined && TRANSIENT_CODES.has(code));
  }
}

function failed(error: string, retryable: boolean): HandlerResult {
  return { status: 'failed', error, retryable };
}
