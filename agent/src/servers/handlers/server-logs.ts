import { ServerLogsPayloadSchema, type ServerLogsPayload } from '@meridian/contracts/task-types/server-tasks';
import { serverFiles } from '../server-files.js';
import type { TaskHandler } from '../../handlers/handler.js';
import { readLastLines } from '../console-lines.js';
import { targetServerOf } from './server-target.js';

/**
 * `ServerLogs`: the last `lines` lines of the server's console log kept on the node (the current
 * file and the one rotation before it), at most ~60 KiB. This is how a server's output is read
 * once its ServerStart completed (there is no ServerAttach).
 */
export function createServerLogsHandler(stateDir: string): TaskHandler<ServerLogsPayload> {
  return {
    type: 'ServerLogs',
    payloadSchema: ServerLogsPayloadSchema,
    run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return Promise.resolve(target.failure);
      ctx.started();
      const files = serverFiles(stateDir, target.serverId);
      const result = readLastLines(
        { previous: files.previousConsole, current: files.console },
        ctx.payload.lines,
      );
      ctx.reportProgress(100, `${result.lines.length} lines${result.truncated ? ' (truncated)' : ''}`);
      return Promise.resolve({ status: 'completed', result });
    },
  };
}
