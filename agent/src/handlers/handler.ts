import type { z } from 'zod';
import type { Logger } from 'pino';

/** Where a handler writes what its work prints; memory stays bounded however much is written. */
export interface OutputSink {
  append(chunk: Buffer | string): void;
}

export interface ExecutionInfo {
  taskId: string;
  executionId: string;
  attempt: number;
  type: string;
  target: { type: string; id: string };
  /** When the agent aborts the work and reports it timed out. */
  deadline: Date;
}

export interface HandlerContext<TPayload = unknown> {
  /** The task payload, already validated by the handler's `payloadSchema`. */
  payload: TPayload;
  execution: ExecutionInfo;
  output: { stdout: OutputSink; stderr: OutputSink };
  /**
   * Call when the work begins (with the pid and its /proc start time when a process was spawned);
   * reports TaskStarted once, and journals the process so that a restarted agent can adopt it.
   */
  started(details?: { pid?: number; startTime?: string }): void;
  /** A directory of this execution's own in AGENT_DATA_DIR (output files, exit status); removed after it. */
  dataDir: string;
  reportProgress(percent: number, message?: string): void;
  /**
   * Aborted on cancel, timeout or agent shutdown; `readAbortReason(signal)` says which and how long
   * a process may take to stop. The handler then stops its work and returns promptly.
   */
  signal: AbortSignal;
  logger: Logger;
}

export type HandlerResult =
  | { status: 'completed'; exitCode?: number; result?: unknown }
  | {
      status: 'failed';
      error: string;
      exitCode?: number | null;
      /** True when trying again may succeed (a network blip), false when it cannot (bad input). */
      retryable: boolean;
      timedOut?: boolean;
    };

/**
 * Runs one type of task. The runner validates the payload with `payloadSchema` (an invalid payload
 * fails the execution, not retryable, naming the field), reports Accepted/Started/terminal, enforces
 * the deadline and turns an abort into TaskCancelled or a timed-out TaskFailed. A handler should not
 * throw: a thrown error is reported as a non-retryable failure.
 */
export interface TaskHandler<TPayload = unknown> {
  readonly type: string;
  readonly payloadSchema: z.ZodType<TPayload>;
  // Method syntax on purpose: it lets a TaskHandler<{ command: string[] }> sit in a registry of
  // TaskHandler<unknown> (method parameters are checked bivariantly).
  run(ctx: HandlerContext<TPayload>): Promise<HandlerResult>;
}

/** Maps a task `type` to its handler. */
export class HandlerRegistry {
  readonly #byType = new Map<string, TaskHandler>();

  constructor(handlers: readonly TaskHandler[]) {
    for (const handler of handlers) {
      if (this.#byType.has(handler.type)) throw new Error(`two handlers for task type "${handler.type}"`);
      this.#byType.set(handler.type, handler);
    }
  }

  get(type: string): TaskHandler | undefined {
    return this.#byType.get(type);
  }

  get types(): string[] {
    return [...this.#byType.keys()];
  }
}
