import { isValidServerId } from '@meridian/contracts/task-types/common';
import { SERVER_TARGET_TYPE } from '@meridian/contracts/task-types/registry';
import type { HandlerContext, HandlerResult } from '../../handlers/handler.js';

/** The server a task is about (`targetId`), or the failure of a task not aimed at a server. */
export function targetServerOf(
  ctx: HandlerContext<unknown>,
): { serverId: string } | { failure: HandlerResult } {
  const { target } = ctx.execution;
  if (target.type !== SERVER_TARGET_TYPE) {
    return {
      failure: {
        status: 'failed',
        error: `targetType must be "${SERVER_TARGET_TYPE}" for a ${ctx.execution.type} task (got "${target.type}")`,
        retryable: false,
      },
    };
  }
  if (!isValidServerId(target.id)) {
    return {
      failure: failed(
        `targetId "${target.id}" is not a valid server id (letters, digits, ".", "_" and "-", at most 200)`,
      ),
    };
  }
  return { serverId: target.id };
}

export function failed(error: string, retryable = false): HandlerResult {
  return { status: 'failed', error, exitCode: null, retryable };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The last lines a server printed, for an error message. */
export function withOutput(error: string, lines: readonly string[]): string {
  return lines.length === 0
    ? `${error} (it printed nothing)`
    : `${error}; its last output:\n${lines.join('\n')}`;
}
