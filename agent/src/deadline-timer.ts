/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** Calls `onDeadline` at `deadline` (at once if it passed); returns a function that cancels it. */
export function callAt(
  deadline: Date,
  onDeadline: () => void,
  now: () => Date = () => new Date(),
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    const remaining = deadline.getTime() - now().getTime();
    if (remaining <= 0) onDeadline();
    else timer = setTimeout(schedule, Math.min(remaining, MAX_TIMER_MS));
  };
  schedule();
  return () => clearTimeout(timer);
}
