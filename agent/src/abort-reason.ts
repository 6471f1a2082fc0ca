/**
 * Why an execution was asked to stop, carried as `AbortSignal.reason`. It decides the terminal
 * report, and `gracePeriodMs` is how long a process gets between SIGTERM and SIGKILL.
 */
export type AbortReason =
  | { kind: 'cancelled'; reason: string; gracePeriodMs: number }
  | { kind: 'timed-out'; gracePeriodMs: number }
  | { kind: 'shutdown'; gracePeriodMs: number };

/** Grace between SIGTERM and SIGKILL when no one said otherwise (timeouts, shutdown). */
export const DEFAULT_KILL_GRACE_MS = 5_000;

export function readAbortReason(signal: AbortSignal): AbortReason | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null && 'kind' in reason && 'gracePeriodMs' in reason) {
    return reason as AbortReason;
  }
  return { kind: 'cancelled', reason: String(reason), gracePeriodMs: DEFAULT_KILL_GRACE_MS };
}

export function gracePeriodOf(signal: AbortSignal): number {
  return readAbortReason(signal)?.gracePeriodMs ?? DEFAULT_KILL_GRACE_MS;
}
