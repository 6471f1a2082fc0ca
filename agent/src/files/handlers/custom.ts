import { existsSync } from 'node:fs';
import { CustomPayloadSchema, type CustomPayload } from '@meridian/contracts/task-types/file-tasks';
import { runProgram } from '../../handlers/command.js';
import type { HandlerResult, TaskHandler } from '../../handlers/handler.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { refusal } from '../file-task-error.js';
import { runFileTask } from '../file-task-run.js';

/**
 * `Custom`: a user's script run with `/bin/sh -c` in the server directory, like a Command (its
 * own process group, output captured, exit 0 completes), while no other task of the server runs.
 */
export function createCustomHandler(deps: FileHandlerDeps): TaskHandler<CustomPayload> {
  return {
    type: 'Custom',
    payloadSchema: CustomPayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, { reportsStart: true }, async (target): Promise<HandlerResult> => {
        const { payload } = ctx;
        if (!existsSync(target.directory))
          throw refusal(`server ${target.serverId} has no directory on this node`);
        return runProgram(ctx, {
          file: '/bin/sh',
          args: ['-c', payload.script],
          cwd: target.directory,
          env: { ...deps.baseEnv, ...payload.env },
          timeoutSeconds: payload.timeoutSeconds,
        });
      }),
  };
}
