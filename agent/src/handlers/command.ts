import { CommandPayloadSchema, type CommandPayload } from '@meridian/contracts/task-types/basic-tasks';
import { DEFAULT_KILL_GRACE_MS, gracePeriodOf, readAbortReason } from '../abort-reason.js';
import type { HandlerContext, HandlerResult, TaskHandler } from './handler.js';
import { executionFiles, runInProcessGroup, type ProcessOutcome } from './process-group.js';

export { CommandPayloadSchema, type CommandPayload };

/**
 * Runs a program in its own process group, capturing stdout and stderr. Exit code 0 completes the
 * task; anything else fails it (not retryable: running the same command again rarely helps).
 * `baseEnv` is the environment every command starts from; the payload's `env` is laid over it.
 */
export function createCommandHandler(baseEnv: Record<string, string>): TaskHandler<CommandPayload> {
  return {
    type: 'Command',
    payloadSchema: CommandPayloadSchema,
    async run(ctx): Promise<HandlerResult> {
      const { payload } = ctx;
      const [file, ...args] =
        typeof payload.command === 'string' ? ['/bin/sh', '-c', payload.command] : payload.command;
      if (file === undefined)
        return { status: 'failed', error: 'empty command', exitCode: null, retryable: false };

      return runProgram(ctx, {
        file,
        args,
        cwd: payload.cwd,
        env: { ...baseEnv, ...payload.env },
        timeoutSeconds: payload.timeoutSeconds,
      });
    },
  };
}

export interface ProgramSpec {
  file: string;
  args: string[];
  cwd?: string | undefined;
  env: Record<string, string>;
  /** Stops the program earlier than the task's own deadline (a payload's `timeoutSeconds`). */
  timeoutSeconds?: number | undefined;
}

/**
 * Runs a program for a task as a Command does: its own process group, output captured and
 * streamed, `ctx.started` with its pid; exit 0 completes, anything else fails (`processResult`),
 * `timeoutSeconds` passed fails as timed out, retryable.
 */
export async function runProgram(ctx: HandlerContext<unknown>, program: ProgramSpec): Promise<HandlerResult> {
  const { file, args, timeoutSeconds } = program;
  const ownTimeout = new AbortController();
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(
          () => ownTimeout.abort({ kind: 'timed-out', gracePeriodMs: DEFAULT_KILL_GRACE_MS }),
          timeoutSeconds * 1000,
        );
  const outcome = await runInProcessGroup({
    file,
    args,
    cwd: program.cwd,
    env: program.env,
    files: executionFiles(ctx.dataDir),
    stdout: ctx.output.stdout,
    stderr: ctx.output.stderr,
    onSpawn: (process) => ctx.started(process),
    signal: AbortSignal.any([ctx.signal, ownTimeout.signal]),
    gracePeriodMs: gracePeriodOf,
  }).finally(() => clearTimeout(timer));

  if (!outcome.started) {
    return {
      status: 'failed',
      error: `could not start ${file}: ${outcome.error.message}`,
      exitCode: null,
      retryable: false,
    };
  }
  if (
    !ctx.signal.aborted &&
    readAbortReason(ownTimeout.signal)?.kind === 'timed-out' &&
    outcome.exitCode !== 0
  ) {
    return {
      status: 'failed',
      error: `timed out after ${timeoutSeconds}s (payload timeoutSeconds)`,
      exitCode: outcome.exitCode,
      retryable: true,
      timedOut: true,
    };
  }
  return processResult(outcome);
}

/** The result of a program that ran: exit 0 completes, anything else fails, not retryable. */
export function processResult(outcome: Extract<ProcessOutcome, { started: true }>): HandlerResult {
  if (outcome.exitCode === 0) return { status: 'completed', exitCode: 0 };
  if (outcome.statusUnknown) {
    return {
      status: 'failed',
      error:
        'the program ended while the agent was down and left no exit status (killed together with its wrapper, or the machine restarted); it may have run partly',
      exitCode: null,
      retryable: false,
    };
  }
  return {
    status: 'failed',
    error:
      outcome.exitCode === null
        ? `killed by ${outcome.exitSignal ?? 'a signal'}`
        : `exited with code ${outcome.exitCode}`,
    exitCode: outcome.exitCode,
    retryable: false,
  };
}
