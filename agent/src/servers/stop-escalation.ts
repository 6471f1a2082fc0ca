import type { StopMethod } from '@meridian/contracts/task-types/server-spec';
import type { ServerProcess } from './server-runtime.js';

export type StoppedBy = 'graceful' | 'SIGTERM' | 'SIGKILL';

export interface StopPlan {
  /** Undefined: straight to SIGTERM. */
  graceful: StopMethod | undefined;
  /** Wait after the graceful method before SIGTERM, and after SIGTERM before SIGKILL. */
  timeoutMs: number;
}

/**
 * Stops a process: the graceful method, SIGTERM after the timeout, SIGKILL after as long again.
 * Resolves with the step that ended it once `ended` settles (the exit handled), or undefined when
 * `signal` aborts the wait first (the process is left as it is).
 */
export async function stopWithEscalation(
  process: ServerProcess,
  ended: Promise<unknown>,
  plan: StopPlan,
  signal: AbortSignal,
  onStep: (step: string, error?: unknown) => void,
): Promise<StoppedBy | undefined> {
  if (plan.graceful) {
    try {
      if (plan.graceful.type === 'command') process.writeLine(plan.graceful.command);
      else process.signal(plan.graceful.signal);
      onStep('graceful');
    } catch (error) {
      // A console that does not take the line: SIGTERM next, at once.
      onStep('graceful method failed', error);
    }
    const outcome = await endedWithin(ended, plan.timeoutMs, signal);
    if (outcome !== 'timeout') return outcome === 'ended' ? 'graceful' : undefined;
  }
  process.signal('SIGTERM');
  onStep('SIGTERM');
  const afterTerm = await endedWithin(ended, plan.timeoutMs, signal);
  if (afterTerm !== 'timeout') return afterTerm === 'ended' ? 'SIGTERM' : undefined;
  process.signal('SIGKILL');
  onStep('SIGKILL');
  return (await endedWithin(ended, undefined, signal)) === 'ended' ? 'SIGKILL' : undefined;
}

function endedWithin(
  ended: Promise<unknown>,
  timeoutMs: number | undefined,
  signal: AbortSignal,
): Promise<'ended' | 'timeout' | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish('timeout'), timeoutMs);
    const onAbort = () => finish('aborted');
    const finish = (outcome: 'ended' | 'timeout' | 'aborted') => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void ended.then(() => finish('ended'));
  });
}
