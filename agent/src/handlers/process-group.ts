import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { JournalledProcess } from '../state/execution-journal.js';
import { isGroupOurs, isProcessRunning, readProcessStartTime } from '../state/process-identity.js';
import { FileTail } from './file-tail.js';
import type { OutputSink } from './handler.js';

/** Where a program's output and exit status go: files in its execution's directory. */
export interface ExecutionFiles {
  stdout: string;
  stderr: string;
  status: string;
}

export function executionFiles(dir: string): ExecutionFiles {
  return { stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr'), status: join(dir, 'status') };
}

interface GroupSpec {
  files: ExecutionFiles;
  stdout: OutputSink;
  stderr: OutputSink;
  /** On abort: SIGTERM to the whole group, SIGKILL after `gracePeriodMs(signal)`. */
  signal: AbortSignal;
  gracePeriodMs(signal: AbortSignal): number;
}

export interface ProcessSpec extends GroupSpec {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  onSpawn(process: JournalledProcess): void;
}

export interface AdoptedProcessSpec extends GroupSpec {
  /** Undefined when the program already ended and only its files (output, exit status) are left. */
  process: JournalledProcess | undefined;
  /** Bytes of stdout and stderr already handled; reading goes on from there. */
  offsets: { stdout: number; stderr: number };
}

export type ProcessOutcome =
  | { started: false; error: Error }
  | {
      started: true;
      pid: number;
      exitCode: number | null;
      exitSignal: NodeJS.Signals | null;
      /** The group ended without an exit status (killed with its wrapper, or the machine restarted). */
      statusUnknown?: true;
    };

/**
 * The wrapper every program runs under: output to files (so that the program never writes to a
 * pipe of an agent that died, and never gets SIGPIPE for it), then its exit status to a file, so
 * that an agent restarted meanwhile still learns how it ended. It survives SIGTERM/SIGINT/SIGHUP
 * (a trap with a handler, not an ignore: the program keeps the default actions) to record the
 * status once the program has stopped; SIGKILL ends it with the rest of the group.
 */
const WRAPPER = [
  'out=$1 err=$2 status=$3',
  'shift 3',
  'trap : HUP INT TERM',
  '"$@" </dev/null >"$out" 2>"$err"',
  'code=$?',
  'printf "%s\\n" "$code" >"$status"',
  'exit "$code"',
].join('\n');
export const WRAPPER_NAME = 'meridian-task';

/** How often an adopted group (not our child: no exit event) is checked. */
const ADOPTED_POLL_MS = 200;

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
 * Runs a program as a member of a new process group (`detached: true`) led by the wrapper, so that
 * an abort reaches its children and grandchildren too, and whatever the program leaves running
 * in its group is killed once it exits. Output is read from the files as they grow. Resolves once
 * it exited and its output is read; never rejects.
 */
export async function runInProcessGroup(spec: ProcessSpec): Promise<ProcessOutcome> {
  const missing = findMissingProgram(spec.file, spec.cwd, spec.env.PATH);
  if (missing) return { started: false, error: missing };
  for (const path of [spec.files.stdout, spec.files.stderr]) writeFileSync(path, '', { mode: 0o600 });

  const tails = startTails(spec, { stdout: 0, stderr: 0 });
  const exited = await new Promise<
    { error: Error } | { pid: number; code: number | null; signal: NodeJS.Signals | null }
  >((settle) => {
    let pid: number | undefined;
    let stopAborting = () => undefined as void;
    try {
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          WRAPPER,
          WRAPPER_NAME,
          spec.files.stdout,
          spec.files.stderr,
          spec.files.status,
          spec.file,
          ...spec.args,
        ],
        { cwd: spec.cwd, env: spec.env, detached: true, stdio: 'ignore' },
      );
      child.once('spawn', () => {
        pid = child.pid;
        if (pid === undefined) return;
        spec.onSpawn({ pid, startTime: readProcessStartTime(pid) ?? '' });
        stopAborting = abortGroupOnSignal(spec, pid);
      });
      child.on('error', (error) => {
        if (pid === undefined) settle({ error });
      });
      child.once('exit', (code, signal) => {
        stopAborting();
        if (pid !== undefined) settle({ pid, code, signal });
      });
    } catch (error) {
      // Invalid arguments (a NUL byte, say) throw synchronously.
      settle({ error: error as Error });
    }
  });
  if ('error' in exited) {
    await finishTails(tails);
    return { started: false, error: exited.error };
  }
  // A task's processes do not outlive it.
  signalProcessGroup(exited.pid, 'SIGKILL');
  await finishTails(tails);
  const status = readExitStatus(spec.files.status);
  if (status) return { started: true, pid: exited.pid, ...status };
  return { started: true, pid: exited.pid, exitCode: exited.code, exitSignal: exited.signal };
}

/**
 * Watches the group of a program started by an earlier agent process (after a restart): reads its
 * output on from `offsets`, obeys aborts like `runInProcessGroup`, and once the wrapper is gone
 * reports the exit status it recorded. Never rejects.
 */
export async function watchProcessGroup(spec: AdoptedProcessSpec): Promise<ProcessOutcome> {
  const { process } = spec;
  const pid = process?.pid ?? 0;
  const tails = startTails(spec, spec.offsets);
  if (process) {
    const stopAborting = abortGroupOnSignal(spec, pid, () => isGroupOurs(process));
    while (isProcessRunning(process)) await new Promise((wake) => setTimeout(wake, ADOPTED_POLL_MS));
    stopAborting();
    if (isGroupOurs(process)) signalProcessGroup(pid, 'SIGKILL');
  }
  await finishTails(tails);
  const status = readExitStatus(spec.files.status);
  if (status) return { started: true, pid, ...status };
  return { started: true, pid, exitCode: null, exitSignal: null, statusUnknown: true };
}

/** The exit status the wrapper recorded, or undefined when it recorded none. */
export function readExitStatus(
  path: string,
): { exitCode: number | null; exitSignal: NodeJS.Signals | null } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!/^\d+$/.test(text)) return undefined;
  const code = Number(text);
  // The shell reports a program killed by signal N as 128 + N.
  const signal = code > 128 ? signalName(code - 128) : undefined;
  return signal ? { exitCode: null, exitSignal: signal } : { exitCode: code, exitSignal: null };
}

function signalName(number: number): NodeJS.Signals | undefined {
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === number);
  return entry?.[0] as NodeJS.Signals | undefined;
}

function abortGroupOnSignal(spec: GroupSpec, pid: number, mayKill: () => boolean = () => true) {
  let timer: NodeJS.Timeout | undefined;
  const kill = (signal: NodeJS.Signals) => mayKill() && signalProcessGroup(pid, signal);
  const onAbort = () => {
    kill('SIGTERM');
    timer = setTimeout(() => kill('SIGKILL'), spec.gracePeriodMs(spec.signal));
  };
  if (spec.signal.aborted) onAbort();
  else spec.signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    spec.signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
  };
}

function startTails(spec: GroupSpec, offsets: { stdout: number; stderr: number }) {
  const tails = [
    new FileTail(spec.files.stdout, spec.stdout, offsets.stdout),
    new FileTail(spec.files.stderr, spec.stderr, offsets.stderr),
  ];
  return { tails, started: Promise.allSettled(tails.map((tail) => tail.start())) };
}

async function finishTails({ tails, started }: ReturnType<typeof startTails>): Promise<void> {
  await started;
  await Promise.allSettled(tails.map((tail) => tail.finish()));
}

/** ENOENT/EACCES for a program that cannot be run, checked before the wrapper starts. */
function findMissingProgram(file: string, cwd: string | undefined, path = ''): Error | undefined {
  const candidates = file.includes('/')
    ? [isAbsolute(file) ? file : resolve(cwd ?? process.cwd(), file)]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(resolve(cwd ?? process.cwd(), dir), file));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return undefined;
    } catch {
      // Next one.
    }
  }
  return Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
}
