import { spawn, type ChildProcess } from 'node:child_process';
import type { OutputSink } from './handler.js';

export interface ProcessSpec {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  stdout: OutputSink;
  stderr: OutputSink;
  onSpawn(pid: number): void;
  /** On abort: SIGTERM to the whole group, SIGKILL after `gracePeriodMs(signal)`. */
  signal: AbortSignal;
  gracePeriodMs(signal: AbortSignal): number;
}

export type ProcessOutcome =
  | { started: false; error: Error }
  | { started: true; pid: number; exitCode: number | null; exitSignal: NodeJS.Signals | null };

/**
 * After the leader exits, how long other members of its group may keep its stdout/stderr open
 * before they are killed. A task's processes do not outlive the task.
 */
const LEFTOVER_WAIT_MS = 1_000;

/** Sends a signal to every process of the group led by `pid`; false when none is left. */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone. EPERM cannot happen for our own children; nothing to do either way.
    return false;
  }
}

/**
 * Runs a program as the leader of a new process group (`detached: true`), so that an abort reaches
 * its children and grandchildren too. Resolves once it exited and its output is drained; never rejects.
 */
export function runInProcessGroup(spec: ProcessSpec): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.file, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Invalid arguments (a NUL byte, say) throw synchronously.
      resolve({ started: false, error: error as Error });
      return;
    }

    const timers = new Set<NodeJS.Timeout>();
    let pid: number | undefined;
    let settled = false;
    const later = (ms: number, action: () => void) => {
      if (!settled) timers.add(setTimeout(action, ms));
    };
    const killGroup = (signal: NodeJS.Signals) => {
      if (pid !== undefined) signalProcessGroup(pid, signal);
    };
    const onAbort = () => {
      killGroup('SIGTERM');
      later(spec.gracePeriodMs(spec.signal), () => killGroup('SIGKILL'));
    };
    const settle = (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      spec.signal.removeEventListener('abort', onAbort);
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };

    child.stdout?.on('data', (chunk: Buffer) => spec.stdout.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => spec.stderr.append(chunk));
    child.once('spawn', () => {
      pid = child.pid;
      if (pid === undefined) return;
      spec.onSpawn(pid);
      if (spec.signal.aborted) onAbort();
      else spec.signal.addEventListener('abort', onAbort, { once: true });
    });
    child.on('error', (error) => {
      if (pid === undefined) settle({ started: false, error });
    });
    child.once('exit', () => {
      later(LEFTOVER_WAIT_MS, () => {
        killGroup('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
      });
    });
    child.once('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (pid === undefined) return;
      killGroup('SIGKILL');
      settle({ started: true, pid, exitCode, exitSignal });
    });
  });
}
