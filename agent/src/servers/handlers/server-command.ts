import {
  ServerCommandPayloadSchema,
  type ServerCommandPayload,
  type ServerCommandResult,
} from '@meridian/contracts/task-types/server-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import { keepLastLines } from '../console-lines.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { failed, messageOf, targetServerOf } from './server-target.js';

/** Lines kept while the window is open; the result keeps the last ones within ~60 KiB. */
const MAX_COLLECTED_LINES = 5_000;

/**
 * `ServerCommand`: one line to the server's console, then the lines it prints during `windowMs`
 * (whatever prints them: the console is shared). Not queued behind the server's other tasks, so
 * that a command (say, "save-off" during a backup) is not held up by them.
 */
export function createServerCommandHandler(supervisor: ServerSupervisor): TaskHandler<ServerCommandPayload> {
  return {
    type: 'ServerCommand',
    payloadSchema: ServerCommandPayloadSchema,
    async run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return target.failure;
      const { serverId } = target;
      const known = supervisor.snapshot(serverId);
      if (!known?.pid)
        return failed(`server ${serverId} is not running (state ${known?.state ?? 'unknown'})`);
      const lines: string[] = [];
      let dropped = false;
      const unsubscribe = supervisor.subscribe(serverId, (line) => {
        ctx.output.stdout.append(`${line}\n`);
        lines.push(line);
        if (lines.length > MAX_COLLECTED_LINES) {
          lines.shift();
          dropped = true;
        }
      });
      try {
        supervisor.writeLine(serverId, ctx.payload.command);
        ctx.started({ pid: known.pid });
        ctx.reportProgress(0, `sent; collecting its output for ${ctx.payload.windowMs} ms`);
        await windowElapsed(ctx.payload.windowMs, ctx.signal);
      } catch (error) {
        return failed(`could not send the command to server ${serverId}: ${messageOf(error)}`);
      } finally {
        unsubscribe();
      }
      const result: ServerCommandResult = keepLastLines(lines, MAX_COLLECTED_LINES, undefined, dropped);
      ctx.reportProgress(100, `${result.lines.length} lines`);
      return { status: 'completed', result };
    },
  };
}

/** The window the command's output is collected for; an abort ends it early (the runner reports the abort). */
function windowElapsed(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
