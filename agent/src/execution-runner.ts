import type { Logger } from 'pino';
import type { ExecuteTask } from '@meridian/contracts/messages/execute-task';
import { DEFAULT_KILL_GRACE_MS, gracePeriodOf, readAbortReason, type AbortReason } from './abort-reason.js';
import { callAt } from './deadline-timer.js';
import { ExecutionReporter, type PublishMessage } from './execution-reporter.js';
import type { HandlerRegistry, HandlerResult, TaskHandler } from './handlers/handler.js';
import type { ExecutionLog, LogPosition } from './logs/execution-log.js';
import { ensurePrivateDir } from './state/durable-file.js';
import type { LogShipper } from './logs/log-shipper.js';
import { captureFile, captureOutput, createExecutionOutput, teeSink } from './output-buffer.js';
import type { RunningExecutions } from './running-executions.js';
import { processResult } from './handlers/command.js';
import { executionFiles, readExitStatus, watchProcessGroup } from './handlers/process-group.js';
import type {
  ExecutionJournal,
  JournalEntry,
  JournalledTask,
  TerminalReport,
} from './state/execution-journal.js';
import { executionDir, findWrapper } from './state/execution-files.js';
import {
  describeIssues,
  effectiveDeadline,
  journalledTask,
  type ExecuteTaskMessage,
} from './execute-task-message.js';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';

export interface ExecutionRunnerOptions {
  registry: HandlerRegistry;
  running: RunningExecutions;
  publish: PublishMessage;
  /** Streams each execution's output live, apart from the reports. */
  logs: LogShipper;
  nodeId: string;
  orgId: string;
  outputMaxBytes: number;
  /** The durable memory of accepted executions (survives a restart of the agent). */
  journal: ExecutionJournal;
  /** AGENT_DATA_DIR: each execution gets a directory of its own there (output files, exit status). */
  dataDir: string;
  logger: Logger;
  now?: () => Date;
}

const TERMINAL_TYPES: ReadonlySet<string> = new Set(['TaskCompleted', 'TaskFailed', 'TaskCancelled']);

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
    const { executionId } = command.payload;
    const logger = this.#loggerFor(command);
    const receivedAt = this.#now();
    const task = journalledTask(command, effectiveDeadline(command.payload, receivedAt));
    // Durable before anything runs: a restarted agent never runs this execution again.
    this.options.journal.accepted(task);
    const dataDir = executionDir(this.options.dataDir, executionId);
    const log = this.#openLog(task, logger);
    const reporter = this.#reporterFor(task, logger, () => log.end());
    const controller = this.#register(task);
    try {
      reporter.accepted();
      await this.#execute(command.payload, { receivedAt, dataDir }, reporter, controller, log, logger);
      this.options.running.finish(executionId);
    } finally {
      this.options.running.remove(executionId);
    }
  }

  /**
   * Takes over an execution a previous agent process accepted and did not see through (after a
   * restart): sends its end report again if it has one, watches its program if that still runs
   * (or reports how it ended meanwhile), and otherwise reports it failed, retryable when no
   * program of it ever started. Never runs anything. Resolves once the end report is confirmed.
   */
  async resume(entry: JournalEntry): Promise<void> {
    const { task } = entry;
    const logger = this.options.logger.child({
      correlationId: task.correlationId,
      taskId: task.taskId,
      executionId: task.executionId,
      taskType: task.type,
      attempt: task.attempt,
    });
    if (entry.end) {
      logger.info({ type: entry.end.type }, 'after a restart: sending the end report again');
      await this.options.publish(entry.end);
      this.options.running.finish(task.executionId);
      return;
    }
    const dataDir = executionDir(this.options.dataDir, task.executionId);
    const files = executionFiles(dataDir);
    const process = entry.started?.process ?? findWrapper(dataDir);
    // The program may have run and ended while the agent was down, between its spawn and its pid
    // reaching the journal: its wrapper's exit status says so, and it must not run again.
    const endedUnjournalled = !process && readExitStatus(files.status) !== undefined;
    const log = this.#openLog(task, logger, entry.log);
    const reporter = this.#reporterFor(task, logger, () => log.end(), {
      firstSequence: entry.lastSequence + 1,
      alreadyStarted: entry.started !== undefined,
    });
    const durationMs = () => Math.max(0, this.#now().getTime() - Date.parse(entry.acceptedAt));
    if (!process && !endedUnjournalled) {
      const ranInside = entry.started !== undefined;
      logger.warn({ ranInside }, 'after a restart: the execution left no program to adopt');
      await reporter.failed({
        error: ranInside
          ? 'the agent restarted while the task ran inside it; it did not finish'
          : 'the agent restarted before the task started',
        exitCode: null,
        retryable: true,
        durationMs: durationMs(),
      });
      this.options.running.finish(task.executionId);
      return;
    }

    logger.info({ pid: process?.pid }, 'after a restart: adopting the program still running or its outcome');
    const controller = this.#register(task);
    const deadline = new Date(task.deadline);
    const timedOut: AbortReason = { kind: 'timed-out', gracePeriodMs: DEFAULT_KILL_GRACE_MS };
    const cancelTimer = callAt(
      deadline,
      () => !controller.signal.aborted && controller.abort(timedOut),
      this.#now,
    );
    try {
      if (!entry.started) {
        this.options.journal.started(task.executionId, process);
        reporter.started(process?.pid);
      }
      const outcome = await watchProcessGroup({
        process,
        files,
        offsets: { stdout: entry.log?.stdout ?? 0, stderr: entry.log?.stderr ?? 0 },
        stdout: { append: (chunk) => log.append('stdout', chunk) },
        stderr: { append: (chunk) => log.append('stderr', chunk) },
        signal: controller.signal,
        gracePeriodMs: gracePeriodOf,
      });
      cancelTimer();
      const result = outcome.started
        ? processResult(outcome)
        : { status: 'failed' as const, error: outcome.error.message, exitCode: null, retryable: false };
      const output = {
        stdout: captureFile(files.stdout, this.options.outputMaxBytes),
        stderr: captureFile(files.stderr, this.options.outputMaxBytes),
      };
      await this.#report(
        reporter,
        controller.signal,
        result,
        {
          exitCode: result.exitCode ?? null,
          durationMs: durationMs(),
          output: captureOutput(output),
        },
        deadline,
      );
      this.options.running.finish(task.executionId);
    } finally {
      cancelTimer();
      this.options.running.remove(task.executionId);
    }
  }

  /** Reports TaskCancelled for an execution whose cancel arrived before it did; runs nothing. */
  async reportCancelledBeforeStart(command: ExecuteTaskMessage, reason: string): Promise<void> {
    const logger = this.#loggerFor(command);
    logger.info({ reason }, 'cancelled before it arrived; not running it');
    const nothingPrinted = () => Promise.resolve(0);
    const task = journalledTask(command, effectiveDeadline(command.payload, this.#now()));
    this.options.journal.accepted(task);
    await this.#reporterFor(task, logger, nothingPrinted).cancelled({
      reason,
      exitCode: null,
      durationMs: 0,
    });
    this.options.running.finish(command.payload.executionId);
  }

  async #execute(
    task: ExecuteTask,
    { receivedAt, dataDir }: { receivedAt: Date; dataDir: string },
    reporter: ExecutionReporter,
    controller: AbortController,
    log: ExecutionLog,
    logger: Logger,
  ) {
    const { signal } = controller;
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
    let startedOnce = false;
    const started = (details?: { pid?: number; startTime?: string }) => {
      if (!startedOnce) {
        startedOnce = true;
        const { pid, startTime } = details ?? {};
        const process = pid !== undefined && startTime ? { pid, startTime } : undefined;
        this.options.journal.started(task.executionId, process);
      }
      reporter.started(details?.pid);
    };
    try {
      ensurePrivateDir(dataDir);
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
        started,
        dataDir,
        reportProgress: (percent, message) => reporter.progress(percent, message),
        signal,
        logger,
      });
    } finally {
      cancelTimer();
    }
    const durationMs = Math.max(0, this.#now().getTime() - receivedAt.getTime());
    const outcome = { exitCode: result.exitCode ?? null, durationMs, output: captureOutput(output) };
    return this.#report(reporter, signal, result, outcome, deadline);
  }

  /** The end report of a handler's (or an adopted program's) result. */
  #report(
    reporter: ExecutionReporter,
    signal: AbortSignal,
    result: HandlerResult,
    outcome: { exitCode: number | null; durationMs: number; output: ReturnType<typeof captureOutput> },
    deadline: Date,
  ): Promise<void> {
    const { durationMs } = outcome;
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

  #register(task: JournalledTask): AbortController {
    const controller = new AbortController();
    this.options.running.add({
      taskId: task.taskId,
      executionId: task.executionId,
      abort: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
    });
    return controller;
  }

  #openLog(task: JournalledTask, logger: Logger, resumeFrom?: LogPosition): ExecutionLog {
    const { taskId, executionId, correlationId } = task;
    return this.options.logs.open(
      {
        taskId,
        executionId,
        correlationId,
        resumeFrom,
        onChunk: (position) => this.options.journal.logPublished(executionId, position),
      },
      logger,
    );
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
    task: JournalledTask,
    logger: Logger,
    endLog: () => Promise<number>,
    resumed: { firstSequence: number; alreadyStarted: boolean } = { firstSequence: 0, alreadyStarted: false },
  ): ExecutionReporter {
    const { journal } = this.options;
    return new ExecutionReporter({
      publish: this.options.publish,
      endLog,
      nodeId: this.options.nodeId,
      correlationId: task.correlationId,
      taskId: task.taskId,
      executionId: task.executionId,
      logger,
      now: this.#now,
      ...resumed,
      onReport: (message: AgentMessage) => {
        if (TERMINAL_TYPES.has(message.type)) journal.ended(message as TerminalReport);
        else if (message.type !== 'AgentHeartbeat' && message.type !== 'CommandRejected')
          journal.sequenceUsed(task.executionId, message.payload.sequence);
      },
    });
  }
}
