import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EnvelopeOf } from '@meridian/contracts/messages/envelope';
import type { ExecuteTask } from '@meridian/contracts/messages/execute-task';
import { DEFAULT_KILL_GRACE_MS, readAbortReason, type AbortReason } from './abort-reason.js';
import { callAt } from './deadline-timer.js';
import { ExecutionReporter, type PublishMessage } from './execution-reporter.js';
import type { HandlerRegistry, HandlerResult, TaskHandler } from './handlers/handler.js';
import type { ExecutionLog } from './logs/execution-log.js';
import type { LogShipper } from './logs/log-shipper.js';
import { captureOutput, createExecutionOutput, teeSink } from './output-buffer.js';
import type { RunningExecutions } from './running-executions.js';

export type ExecuteTaskMessage = EnvelopeOf<'ExecuteTask', ExecuteTask>;

export interface ExecutionRunnerOptions {
  registry: HandlerRegistry;
  running: RunningExecutions;
  publish: PublishMessage;
  /** Streams each execution's output live, apart from the reports. */
  logs: LogShipper;
  nodeId: string;
  orgId: string;
  outputMaxBytes: number;
  logger: Logger;
  now?: () => Date;
}

/**
 * Runs one ExecuteTask through its handler: TaskAccepted, TaskStarted, progress, then exactly one
 * terminal report. Enforces the deadline and turns an abort into the matching terminal report.
 */
export class ExecutionRunner {
  readonly #now: () => Date;

  constructor(private readonly options: ExecutionRunnerOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Resolves once the terminal report is confirmed; rejects when it could not be sent. */
  async run(command: ExecuteTaskMessage): Promise<void> {
    const { taskId, executionId } = command.payload;
    const logger = this.#loggerFor(command);
    const log = this.options.logs.open({ taskId, executionId, correlationId: command.correlationId }, logger);
    const reporter = this.#reporterFor(command, logger, () => log.end());
    const controller = new AbortController();
    this.options.running.add({
      taskId,
      executionId,
      abort: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
    });
    try {
      reporter.accepted();
      await this.#execute(command.payload, reporter, controller, log, logger);
      this.options.running.finish(executionId);
    } finally {
      this.options.running.remove(executionId);
    }
  }

  /** Reports TaskCancelled for an execution whose cancel arrived before it did; runs nothing. */
  async reportCancelledBeforeStart(command: ExecuteTaskMessage, reason: string): Promise<void> {
    const logger = this.#loggerFor(command);
    logger.info({ reason }, 'cancelled before it arrived; not running it');
    const nothingPrinted = () => Promise.resolve(0);
    await this.#reporterFor(command, logger, nothingPrinted).cancelled({
      reason,
      exitCode: null,
      durationMs: 0,
    });
    this.options.running.finish(command.payload.executionId);
  }

  async #execute(
    task: ExecuteTask,
    reporter: ExecutionReporter,
    controller: AbortController,
    log: ExecutionLog,
    logger: Logger,
  ) {
    const { signal } = controller;
    const receivedAt = this.#now();
    const deadline = effectiveDeadline(task, receivedAt);
    const handler = this.options.registry.get(task.type);
    if (task.orgId !== this.options.orgId) {
      const error = `task of organisation "${task.orgId}" sent to a node of "${this.options.orgId}"`;
      return reporter.failed({ error, exitCode: null, retryable: false });
    }
    if (!handler) {
      const error = `unknown task type "${task.type}"; this agent handles: ${this.options.registry.types.join(', ')}`;
      return reporter.failed({ error, exitCode: null, retryable: false });
    }
    const parsed = handler.payloadSchema.safeParse(task.payload);
    if (!parsed.success) {
      return reporter.failed({
        error: `invalid payload: ${describeIssues(parsed.error)}`,
        exitCode: null,
        retryable: false,
      });
    }
    if (deadline <= receivedAt) {
      const error = `deadline ${deadline.toISOString()} passed before the task started`;
      return reporter.failed({ error, exitCode: null, retryable: true, timedOut: true, durationMs: 0 });
    }

    const output = createExecutionOutput(this.options.outputMaxBytes);
    const live = (stream: 'stdout' | 'stderr') => ({
      append: (chunk: Buffer | string) => log.append(stream, chunk),
    });
    const timedOut: AbortReason = { kind: 'timed-out', gracePeriodMs: DEFAULT_KILL_GRACE_MS };
    const cancelTimer = callAt(deadline, () => !signal.aborted && controller.abort(timedOut), this.#now);
    let result: HandlerResult;
    try {
      result = await this.#runHandler(handler, {
        payload: parsed.data,
        execution: {
          taskId: task.taskId,
          executionId: task.executionId,
          attempt: task.attempt,
          type: task.type,
          target: task.target,
          deadline,
        },
        output: {
          stdout: teeSink(output.stdout, live('stdout')),
          stderr: teeSink(output.stderr, live('stderr')),
        },
        started: (details) => reporter.started(details?.pid),
        reportProgress: (percent, message) => reporter.progress(percent, message),
        signal,
        logger,
      });
    } finally {
      cancelTimer();
    }
    const durationMs = Math.max(0, this.#now().getTime() - receivedAt.getTime());
    const outcome = { exitCode: result.exitCode ?? null, durationMs, output: captureOutput(output) };

    // Once an abort reached the execution, the abort decides the report, whatever the handler returned.
    const abortReason = readAbortReason(signal);
    switch (abortReason?.kind) {
      case 'cancelled':
        return reporter.cancelled({ reason: abortReason.reason, ...outcome });
      case 'timed-out': {
        const error = `timed out after ${Math.round(durationMs / 1000)}s (deadline ${deadline.toISOString()})`;
        return reporter.failed({ error, retryable: true, timedOut: true, ...outcome });
      }
      case 'shutdown':
        return reporter.failed({
          error: 'the agent shut down before the task finished',
          retryable: true,
          ...outcome,
        });
      case undefined:
        break;
    }
    if (result.status === 'completed') {
      reporter.started();
      return reporter.completed({ ...outcome, exitCode: result.exitCode ?? 0, result: result.result });
    }
    return reporter.failed({
      error: result.error,
      retryable: result.retryable,
      ...(result.timedOut ? { timedOut: true } : {}),
      ...outcome,
    });
  }

  async #runHandler(handler: TaskHandler, ctx: Parameters<TaskHandler['run']>[0]): Promise<HandlerResult> {
    try {
      return await handler.run(ctx);
    } catch (error) {
      ctx.logger.error({ err: error }, 'handler threw');
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'failed', error: `handler error: ${message}`, exitCode: null, retryable: false };
    }
  }

  #loggerFor(command: ExecuteTaskMessage): Logger {
    const { taskId, executionId, type, attempt } = command.payload;
    return this.options.logger.child({
      correlationId: command.correlationId,
      taskId,
      executionId,
      taskType: type,
      attempt,
    });
  }

  #reporterFor(
    command: ExecuteTaskMessage,
    logger: Logger,
    endLog: () => Promise<number>,
  ): ExecutionReporter {
    return new ExecutionReporter({
      publish: this.options.publish,
      endLog,
      nodeId: this.options.nodeId,
      correlationId: command.correlationId,
      taskId: command.payload.taskId,
      executionId: command.payload.executionId,
      logger,
      now: this.#now,
    });
  }
}

/** The earlier of the command's absolute deadline and its timeout counted from arrival. */
export function effectiveDeadline(
  task: Pick<ExecuteTask, 'deadline' | 'timeoutSeconds'>,
  receivedAt: Date,
): Date {
  return new Date(Math.min(Date.parse(task.deadline), receivedAt.getTime() + task.timeoutSeconds * 1000));
}

/** `payload.command: expected array` style, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${['payload', ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
}
