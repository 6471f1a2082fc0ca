import type { HandlerContext } from '../../handlers/handler.js';

/** Reports progress of one step of a task as a part of its whole (a restart: stop 0–50, start 50–100). */
export type StepProgress = (percent: number, message: string) => void;

export function progressWithin(ctx: HandlerContext<unknown>, from = 0, to = 100): StepProgress {
  return (percent, message) =>
    ctx.reportProgress(Math.round(from + ((to - from) * Math.min(100, Math.max(0, percent))) / 100), message);
}
