import type { RestartPolicy, ServerState } from '@meridian/contracts/task-types/server-spec';

/** Back-off between restarts never grows past this. */
export const MAX_BACKOFF_SECONDS = 300;
/** A server that stayed up this long before it crashed starts counting its restarts again. */
export const STABLE_UPTIME_MS = 10 * 60_000;

export interface ServerExitFacts {
  policy: RestartPolicy;
  /** Restarts after crashes in a row so far. */
  restarts: number;
  /** How long the process that just ended ran. */
  uptimeMs: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** A stop was asked for (a ServerStop, a restart, an undone start): the exit is no crash. */
  stopRequested: boolean;
}

export type ExitDecision =
  | { state: 'stopped' | 'crashed'; restarts: number }
  | { state: 'restarting'; restarts: number; delayMs: number };

/**
 * What follows the end of a server's process. An exit that was asked for, or a clean exit (code 0)
 * on its own, is `stopped`; any other exit is a crash, restarted per the policy with a back-off
 * doubling from `backoffSeconds` (at most MAX_BACKOFF_SECONDS) until `maxRestarts` in a row.
 */
export function decideAfterExit(facts: ServerExitFacts): ExitDecision {
  const { policy, exitCode, exitSignal } = facts;
  const restarts = facts.uptimeMs >= STABLE_UPTIME_MS ? 0 : facts.restarts;
  if (facts.stopRequested) return { state: 'stopped', restarts: facts.restarts };
  if (exitCode === 0 && exitSignal === null) return { state: 'stopped', restarts: facts.restarts };
  switch (policy.type) {
    case 'never':
      return { state: 'crashed', restarts: facts.restarts };
    case 'on-failure': {
      if (restarts >= policy.maxRestarts) return { state: 'crashed', restarts };
      const delaySeconds = Math.min(MAX_BACKOFF_SECONDS, policy.backoffSeconds * 2 ** restarts);
      return { state: 'restarting', restarts: restarts + 1, delayMs: delaySeconds * 1000 };
    }
    default:
      return assertNever(policy);
  }
}

/** States in which a server has a process, or is about to have one again. */
export function isActiveState(state: ServerState): boolean {
  return state === 'starting' || state === 'running' || state === 'stopping' || state === 'restarting';
}

function assertNever(value: never): never {
  throw new Error(`unhandled restart policy ${JSON.stringify(value)}`);
}
