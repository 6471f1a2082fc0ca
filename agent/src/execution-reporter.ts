import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  AGENT_EVENT_SCHEMA_VERSION,
  clampCapturedOutput,
  type CapturedOutput,
  type TaskCancelled,
  type TaskCompleted,
  type TaskFailed,
} from '@meridian/contracts/messages/agent-events';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import {
  ERROR_MAX_BYTES,
  PROGRESS_MESSAGE_MAX_BYTES,
  REASON_MAX_BYTES,
  RESULT_MAX_BYTES,
  RESULT_MAX_DEPTH,
} from '@meridian/contracts/messages/limits';
import { toStorableJson } from '@meridian/contracts/storable-json';
import { toStorableClampedText } from '@meridian/contracts/storable';

/** Sends one message and resolves once the broker confirmed it; see ReportPublisher. */
export type PublishMessage = (message: AgentMessage) => Promise<void>;

const TERMINAL_TYPES: ReadonlySet<string> = new Set(['TaskCompleted', 'TaskFailed', 'TaskCancelled']);

/** The fields worth a log line (not the output). */
function summarise(payload: AgentMessage['payload']): Record<string, unknown> {
  const { exitCode, durationMs, error, reason, retryable, timedOut } = payload as Partial<
    TaskFailed & TaskCancelled
  >;
  return { exitCode, durationMs, error, reason, retryable, timedOut };
}

type ReportFields<T> = Omit<T, 'taskId' | 'executionId' | 'sequence' | 'lastLogSeq'>;

/** The output within the protocol's limits (docs/protocol.md): the control plane takes it whole. */
function withinLimits(output: CapturedOutput | undefined): { output?: CapturedOutput } {
  return output ? { output: clampCapturedOutput(output) } : {};
}

export interface ExecutionReporterOptions {
  publish: PublishMessage;
  nodeId: string;
  correlationId: string;
  taskId: string;
  executionId: string;
  logger: Logger;
  /**
   * Ends the execution's live log and resolves with its last seq once its last chunk is sent (or
   * a bounded wait passed): end reports go after the log and carry `lastLogSeq`.
   */
  endLog?: () => Promise<number>;
  now?: () => Date;
  newId?: () => string;
  /** The sequence of the first report (an execution resumed after a restart goes on from its journal). */
  firstSequence?: number;
  /** TaskStarted was reported already (by an earlier agent process, for a resumed execution). */
  alreadyStarted?: boolean;
  /** Called with each report before it is published (the journal keeps sequences and the end report). */
  onReport?(message: AgentMessage): void;
}

/**
 * Stamps the reports of one execution: envelope, ids and the per-execution `sequence` (0, 1, 2…)
 * by which the control plane orders them. Progress reports are sent without waiting; terminal
 * reports return the confirmation so that the command is acked only once its outcome is safe.
 */
export class ExecutionReporter {
  #sequence = 0;
  #started = false;
  #finished = false;
  readonly #now: () => Date;
  readonly #newId: () => string;

  constructor(private readonly options: ExecutionReporterOptions) {
    this.#now = options.now ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
    this.#sequence = options.firstSequence ?? 0;
    this.#started = options.alreadyStarted ?? false;
  }

  get hasStarted(): boolean {
    return this.#started;
  }

  accepted(): void {
    this.#sendInBackground(
      buildEnvelope('TaskAccepted', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), this.#ids()),
    );
  }

  /** Reports TaskStarted once; later calls do nothing. */
  started(pid?: number): void {
    if (this.#started || this.#finished) return;
    this.#started = true;
    const payload = { ...this.#ids(), pid: pid ?? null };
    this.#sendInBackground(buildEnvelope('TaskStarted', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), payload));
  }

  progress(percent: number, message?: string): void {
    // A report after the terminal one would be stale by definition (a handler that kept going).
    if (this.#finished) return;
    this.started();
    const payload = {
      ...this.#ids(),
      percent: Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0,
      ...(message === undefined
        ? {}
        : { message: toStorableClampedText(message, PROGRESS_MESSAGE_MAX_BYTES) }),
    };
    this.#sendInBackground(
      buildEnvelope('TaskProgress', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), payload),
    );
  }

  async completed(fields: ReportFields<TaskCompleted>): Promise<void> {
    const lastLogSeq = await this.#endLog();
    const payload: TaskCompleted = {
      ...this.#ids(),
      ...fields,
      ...withinLimits(fields.output),
      ...(fields.result === undefined
        ? {}
        : {
            result: toStorableJson(fields.result, { maxBytes: RESULT_MAX_BYTES, maxDepth: RESULT_MAX_DEPTH }),
          }),
      ...lastLogSeq,
    };
    return this.#send(buildEnvelope('TaskCompleted', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), payload));
  }

  async failed(fields: ReportFields<TaskFailed>): Promise<void> {
    const lastLogSeq = await this.#endLog();
    const payload: TaskFailed = {
      ...this.#ids(),
      ...fields,
      ...withinLimits(fields.output),
      error: toStorableClampedText(fields.error, ERROR_MAX_BYTES),
      ...lastLogSeq,
    };
    return this.#send(buildEnvelope('TaskFailed', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), payload));
  }

  async cancelled(fields: ReportFields<TaskCancelled>): Promise<void> {
    const lastLogSeq = await this.#endLog();
    const payload: TaskCancelled = {
      ...this.#ids(),
      ...fields,
      ...withinLimits(fields.output),
      ...(fields.reason === undefined
        ? {}
        : { reason: toStorableClampedText(fields.reason, REASON_MAX_BYTES) }),
      ...lastLogSeq,
    };
    return this.#send(buildEnvelope('TaskCancelled', AGENT_EVENT_SCHEMA_VERSION, this.#fields(), payload));
  }

  /** Closes the log before the end report; no report may follow, not even while the log drains. */
  async #endLog(): Promise<{ lastLogSeq?: number }> {
    this.#finished = true;
    return this.options.endLog ? { lastLogSeq: await this.options.endLog() } : {};
  }

  #ids() {
    return { taskId: this.options.taskId, executionId: this.options.executionId, sequence: this.#sequence++ };
  }

  #fields() {
    return {
      messageId: this.#newId(),
      occurredAt: this.#now(),
      correlationId: this.options.correlationId,
      nodeId: this.options.nodeId,
    };
  }

  #send(message: AgentMessage): Promise<void> {
    const terminal = TERMINAL_TYPES.has(message.type);
    if (terminal) this.#finished = true;
    this.options.logger[terminal ? 'info' : 'debug'](
      { type: message.type, messageId: message.messageId, ...(terminal ? summarise(message.payload) : {}) },
      'reporting %s',
      message.type,
    );
    this.options.onReport?.(message);
    return this.options.publish(message);
  }

  #sendInBackground(message: AgentMessage): void {
    this.#send(message).catch((error: unknown) =>
      this.options.logger.warn({ err: error, type: message.type }, 'report not sent'),
    );
  }
}
