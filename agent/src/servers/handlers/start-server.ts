import type { ServerSpec } from '@meridian/contracts/task-types/server-spec';
import type { ServerStartResult } from '@meridian/contracts/task-types/server-tasks';
import { gracePeriodOf, readAbortReason } from '../../abort-reason.js';
import type { HandlerContext, HandlerResult } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { failed, messageOf, withOutput } from './server-target.js';
import { progressWithin, type StepProgress } from './progress-range.js';

/** Lines of output kept for the error of a start that failed. */
const TAIL_LINES = 20;
const NEVER_ABORTED = new AbortController().signal;

/**
 * The start of a ServerStart or ServerRestart: refused while the server has a process; spawns it
 * with `spec` (or the kept one), follows its output into the execution's live log, and completes
 * on its ready line. An exit first, the ready timeout, a cancel or the deadline fail the start
 * (the last two, and the timeout, stop the server again); an agent shutdown leaves it running.
 */
export async function startServer(
  ctx: HandlerContext<unknown>,
  supervisor: ServerSupervisor,
  serverId: string,
  payloadSpec: ServerSpec | undefined,
  progress: StepProgress = progressWithin(ctx),
): Promise<HandlerResult> {
  const known = supervisor.snapshot(serverId);
  if (supervisor.isRunning(serverId)) {
    const pid = known?.pid === null || known?.pid === undefined ? known?.state : `pid ${known.pid}`;
    return failed(`server ${serverId} is already running (${pid ?? 'running'})`);
  }
  const spec = payloadSpec ?? known?.spec;
  if (!spec) return failed(`payload.spec is required: no spec of server ${serverId} is kept on this node`);

  const tail: string[] = [];
  const unsubscribe = supervisor.subscribe(serverId, (line) => {
    ctx.output.stdout.append(`${line}\n`);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  });
  try {
    let process;
    try {
      process = await supervisor.start(serverId, spec, { watched: true });
    } catch (error) {
      return failed(`could not start server ${serverId}: ${messageOf(error)}`);
    }
    // The pid without its start time: the runner then does not journal the server as the task's
    // program (a restarted agent would adopt it as one and kill it at its end); the supervisor adopts it.
    ctx.started({ pid: process.pid });
    progress(
      spec.readyPattern ? 50 : 90,
      spec.readyPattern
        ? `started (pid ${process.pid}); waiting for its ready line`
        : `started (pid ${process.pid})`,
    );
    ctx.logger.info({ serverId, pid: process.pid }, 'server started: waiting for its ready line');
    const timeoutMs = spec.readyTimeoutSeconds * 1000;
    const outcome = await supervisor.waitForReady(serverId, process.pid, ctx.signal, timeoutMs);
    switch (outcome) {
      case 'ready':
        progress(100, 'ready');
        return {
          status: 'completed',
          result: {
            pid: process.pid,
            startedAt: process.startedAt,
            readyAfterMs: Math.max(0, Date.now() - Date.parse(process.startedAt)),
          } satisfies ServerStartResult,
        };
      case 'exited': {
        const ended = supervisor.snapshot(serverId);
        const how = ended?.lastExitSignal
          ? `killed by ${ended.lastExitSignal}`
          : `exit code ${ended?.lastExitCode ?? 'unknown'}`;
        return failed(withOutput(`server ${serverId} exited before it was ready (${how})`, tail));
      }
      case 'timeout':
        await supervisor.stop(serverId, { graceful: true }, NEVER_ABORTED);
        return failed(
          withOutput(
            `server ${serverId} printed no line matching spec.readyPattern within ${spec.readyTimeoutSeconds}s (spec.readyTimeoutSeconds); stopped it`,
            tail,
          ),
        );
      case 'aborted': {
        const reason = readAbortReason(ctx.signal);
        if (reason?.kind === 'shutdown') {
          return failed(`the agent shut down while server ${serverId} started; it was left running`, true);
        }
        const timeoutSeconds = Math.max(1, Math.ceil(gracePeriodOf(ctx.signal) / 1000));
        await supervisor.stop(serverId, { graceful: true, timeoutSeconds }, NEVER_ABORTED);
        return failed(`the start of server ${serverId} was aborted; it was stopped`);
      }
    }
  } finally {
    unsubscribe();
  }
}
