import { ExpiringMap } from './expiring-map.js';
import type { AbortReason } from './abort-reason.js';

export interface RunningExecution {
  taskId: string;
  executionId: string;
  abort(reason: AbortReason): void;
}

export type ExecutionState = 'running' | 'finished' | 'unknown';

/** How long a finished execution is remembered, to ack its redeliveries without running it again. */
const FINISHED_TTL_MS = 15 * 60_000;
const FINISHED_MAX = 10_000;

/** The executions of this agent, from acceptance until their terminal report is confirmed. */
export class RunningExecutions {
  readonly #running = new Map<string, RunningExecution>();
  readonly #finished: ExpiringMap<true>;
  #emptyWaiters: Array<() => void> = [];

  constructor(now: () => number = Date.now) {
    this.#finished = new ExpiringMap<true>(FINISHED_TTL_MS, FINISHED_MAX, now);
  }

  add(execution: RunningExecution): void {
    this.#running.set(execution.executionId, execution);
  }

  /** Marks the execution finished; a redelivery of it is then recognised for a while. */
  finish(executionId: string): void {
    this.#finished.set(executionId, true);
    this.remove(executionId);
  }

  /** Forgets the execution without remembering it finished (its outcome was not delivered). */
  remove(executionId: string): void {
    this.#running.delete(executionId);
    if (this.#running.size === 0) {
      const waiters = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  get(executionId: string): RunningExecution | undefined {
    return this.#running.get(executionId);
  }

  stateOf(executionId: string): ExecutionState {
    if (this.#running.has(executionId)) return 'running';
    return this.#finished.has(executionId) ? 'finished' : 'unknown';
  }

  ids(): string[] {
    return [...this.#running.keys()];
  }

  get size(): number {
    return this.#running.size;
  }

  abortAll(reason: AbortReason): void {
    for (const execution of this.#running.values()) execution.abort(reason);
  }

  /** Resolves true once nothing runs, or false when `timeoutMs` passes first. */
  waitUntilEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#emptyWaiters = this.#emptyWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      this.#emptyWaiters.push(wake);
    });
  }
}
