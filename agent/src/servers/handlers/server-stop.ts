import {
  ServerStopPayloadSchema,
  type ServerStopPayload,
  type ServerStopResult,
} from '@meridian/contracts/task-types/server-tasks';
import type { HandlerContext, HandlerResult, TaskHandler } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { failed, targetServerOf } from './server-target.js';
import { progressWithin, type StepProgress } from './progress-range.js';

/**
 * `ServerStop`: the spec's graceful method (unless `gracefulShutdown: false`), SIGTERM after the
 * timeout, SIGKILL after as long again; completes once it exited with { exitCode, exitSignal,
 * stoppedBy }. A server that is not running completes at once (`already-stopped`).
 */
export function createServerStopHandler(supervisor: ServerSupervisor): TaskHandler<ServerStopPayload> {
  return {
    type: 'ServerStop',
    payloadSchema: ServerStopPayloadSchema,
    run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return Promise.resolve(target.failure);
      const { serverId } = target;
      return supervisor.exclusive(serverId, ctx.signal, () =>
        stopServer(ctx, supervisor, serverId, ctx.payload),
      );
    },
  };
}

/** The stop of a ServerStop or ServerRestart. */
export async function stopServer(
  ctx: HandlerContext<unknown>,
  supervisor: ServerSupervisor,
  serverId: string,
  options: { gracefulShutdown: boolean; timeoutSeconds?: number | undefined },
  progress: StepProgress = progressWithin(ctx),
): Promise<HandlerResult> {
  const known = supervisor.snapshot(serverId);
  const pid = known?.pid ?? undefined;
  ctx.started(pid === undefined ? undefined : { pid });
  if (pid !== undefined)
    progress(0, options.gracefulShutdown ? 'stopping: its graceful stop method first' : 'stopping: SIGTERM');
  // What it prints while it stops goes to the live log.
  const unsubscribe = known
    ? supervisor.subscribe(serverId, (line) => ctx.output.stdout.append(`${line}\n`))
    : () => undefined;
  const outcome = await supervisor
    .stop(
      serverId,
      {
        graceful: options.gracefulShutdown,
        ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
      },
      ctx.signal,
    )
    .finally(unsubscribe);
  if (!outcome) return failed(`the stop of server ${serverId} was aborted before it exited`, true);
  ctx.logger.info({ serverId, ...outcome }, 'server stopped');
  progress(100, `stopped (${outcome.stoppedBy})`);
  return { status: 'completed', result: outcome satisfies ServerStopResult };
}
