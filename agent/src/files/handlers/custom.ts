import { existsSync } from 'node:fs';
import { CustomPayloadSchema, type CustomPayload } from '@meridian/contracts/task-types/file-tasks';
import { DEFAULT_KILL_GRACE_MS, gracePeriodOf, readAbortReason } from '../../abort-reason.js';
import { processResult } from '../../handlers/command.js';
import type { HandlerResult, TaskHandler } from '../../handlers/handler.js';
import { executionFiles, runInProcessGroup } from '../../handlers/process-group.js';
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
        const ownTimeout = new AbortController();
        const timer =
          payload.timeoutSeconds === undefined
            ? undefined
            : setTimeout(
                () => ownTimeout.abort({ kind: 'timed-out', gracePeriodMs: DEFAULT_KILL_GRACE_MS }),
                payload.timeoutSeconds * 1000,
              );
        const outcome = await runInProcessGroup({
          file: '/bin/sh',
          args: ['-c', payload.script],
          cwd: target.directory,
          env: { ...deps.baseEnv, ...payload.env },
          files: executionFiles(ctx.dataDir),
          stdout: ctx.output.stdout,
          stderr: ctx.output.stderr,
          onSpawn: (process) => ctx.started(process),
          signal: AbortSignal.any([ctx.signal, ownTimeout.signal]),
          gracePeriodMs: gracePeriodOf,
        }).finally(() => clearTimeout(timer));
        if (!outcome.started) throw refusal(`could not start /bin/sh: ${outcome.error.message}`);
        if (
          !ctx.signal.aborted &&
          readAbortReason(ownTimeout.signal)?.kind === 'timed-out' &&
          outcome.exitCode !== 0
        ) {
          return {
            status: 'failed',
            error: `timed out after ${payload.timeoutSeconds}s (payload timeoutSeconds)`,
            exitCode: outcome.exitCode,
            retryable: true,
            timedOut: true,
          };
        }
        return processResult(outcome);
      }),
  };
}
