/*
 * Progress of a file task in bytes: "12.5 MiB of 40.0 MiB", reported at most twice a second so
 * that a fast download does not flood the broker.
 */

const MIB = 1024 * 1024;

export function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** "x MiB of y MiB" (or "x MiB" when the total is unknown), with an optional leading phase. */
export function describeBytes(done: number, total: number | undefined, phase?: string): string {
  const amount = total === undefined ? formatMiB(done) : `${formatMiB(done)} of ${formatMiB(total)}`;
  return phase === undefined ? amount : `${phase}: ${amount}`;
}

/** Percent of the span [from, to] reached after `done` of `total` bytes, rounded down, clamped. */
export function spanPercent(done: number, total: number | undefined, from: number, to: number): number {
  if (total === undefined || total <= 0) return from;
  const fraction = Math.min(1, Math.max(0, done / total));
  return Math.floor(from + (to - from) * fraction);
}

export interface ByteProgress {
  /** Bytes done of `total` (unknown: undefined); the percent lies in this phase's span. */
  update(done: number, total: number | undefined): void;
}

export interface ProgressPhase {
  label: string;
  /** Percent at the start and at the end of this phase. */
  from: number;
  to: number;
}

/** Where progress goes: a handler's context. */
export interface ProgressTarget {
  reportProgress(percent: number, message?: string): void;
}

/** Reports to `target` at most once per `intervalMs` (the first update at once). */
export function throttledProgress(
  target: ProgressTarget,
  phase: ProgressPhase,
  { intervalMs = 500, now = Date.now }: { intervalMs?: number; now?: () => number } = {},
): ByteProgress {
  let last = -Infinity;
  return {
    update(done, total) {
      const at = now();
      if (at - last < intervalMs) return;
      last = at;
      target.reportProgress(
        spanPercent(done, total, phase.from, phase.to),
        describeBytes(done, total, phase.label),
      );
    },
  };
}
