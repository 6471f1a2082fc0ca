import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { readExitStatus, signalProcessGroup } from '../handlers/process-group.js';
import { isGroupOurs, isProcessRunning, readProcessStartTime } from '../state/process-identity.js';
import { measureGroup } from './process-usage.js';
import type { ServerFiles } from './server-files.js';
import type {
  ProcessRecord,
  ServerExit,
  ServerLaunch,
  ServerProcess,
  ServerRuntime,
} from './server-runtime.js';

/**
 * The wrapper a server runs under, leader of its process group. Its stdin is the server's FIFO
 * opened read-write (`0<>`): the server never sees EOF, whoever writes to it comes and goes (the
 * agent may die and come back). Output is appended to the console log (so that rotation by
 * truncation lets it go on at the start), and the exit status is recorded in a file that an agent
 * restarted meanwhile reads. The wrapper survives SIGTERM/SIGINT/SIGHUP sent to the group (a
 * trap, so the server keeps the default actions) to record the status once the server stopped.
 */
const WRAPPER = [
  'fifo=$1 log=$2 status=$3',
  'shift 3',
  'trap : HUP INT TERM',
  '"$@" 0<>"$fifo" >>"$log" 2>&1',
  'code=$?',
  'printf "%s\\n" "$code" >"$status"',
  'exit "$code"',
].join('\n');
export const SERVER_WRAPPER_NAME = 'meridian-server';

/** How often an adopted server (not our child: no exit event) is checked. */
const ADOPTED_POLL_MS = 200;

export class ProcessServerRuntime implements ServerRuntime {
  async start(launch: ServerLaunch): Promise<ServerProcess> {
    const { files } = launch;
    ensureFifo(files.stdin);
    rmSync(files.exitStatus, { force: true });
    const [program, ...args] = launch.argv;
    if (program === undefined) throw new Error('spec.argv is empty');
    const child = spawn(
      '/bin/sh',
      ['-c', WRAPPER, SERVER_WRAPPER_NAME, files.stdin, files.console, files.exitStatus, program, ...args],
      { cwd: launch.cwd, env: launch.env, detached: true, stdio: 'ignore' },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // The agent may exit while its servers go on.
    child.unref();
    const pid = child.pid as number;
    const record: ProcessRecord = {
      pid,
      startTime: readProcessStartTime(pid) ?? '',
      startedAt: new Date().toISOString(),
    };
    let watching = true;
    const exited = new Promise<ServerExit>((settle) => {
      child.once('exit', (code, signal) => {
        if (!watching) return;
        // What the server left running in its group goes with it.
        signalProcessGroup(pid, 'SIGKILL');
        settle(readExitStatus(files.exitStatus) ?? { exitCode: code, exitSignal: signal });
      });
    });
    return serverProcess(record, files, exited, () => (watching = false));
  }

  adopt(record: ProcessRecord, files: ServerFiles): ServerProcess | undefined {
    if (!isProcessRunning(record)) return undefined;
    let timer: NodeJS.Timeout | undefined;
    let watching = true;
    const exited = new Promise<ServerExit>((settle) => {
      const check = () => {
        if (!watching) return;
        if (isProcessRunning(record)) {
          timer = setTimeout(check, ADOPTED_POLL_MS).unref();
          return;
        }
        if (isGroupOurs(record)) signalProcessGroup(record.pid, 'SIGKILL');
        settle(readExitStatus(files.exitStatus) ?? { exitCode: null, exitSignal: null });
      };
      check();
    });
    return serverProcess(record, files, exited, () => {
      watching = false;
      clearTimeout(timer);
    });
  }
}

function serverProcess(
  record: ProcessRecord,
  files: ServerFiles,
  exited: Promise<ServerExit>,
  release: () => void,
): ServerProcess {
  return {
    record,
    exited,
    writeLine: (line) => writeToConsole(files.stdin, line),
    signal: (signal) => isGroupOurs(record) && signalProcessGroup(record.pid, signal),
    usage: (sampleMs) => measureGroup(record.pid, sampleMs),
    release,
  };
}

/**
 * Writes one line to the server's FIFO without ever blocking the agent: ENXIO when no process has
 * it open (the server is gone), EAGAIN when the server does not read its console and the pipe is full.
 */
function writeToConsole(fifo: string, line: string): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    throw new Error(
      `the server's console is not open (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  try {
    const data = Buffer.from(`${line}\n`, 'utf8');
    // A write of at most PIPE_BUF (4 KiB) bytes to a pipe is all or nothing.
    if (writeSync(fd, data) !== data.length) throw new Error('the console took only part of the line');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') throw new Error('the server does not read its console (its input is full)');
    throw error;
  } finally {
    closeSync(fd);
  }
}

function ensureFifo(path: string): void {
  try {
    if (lstatSync(path).isFIFO()) return;
    rmSync(path, { force: true });
  } catch {
    // Missing: made below.
  }
  execFileSync('mkfifo', ['-m', '600', path]);
}
