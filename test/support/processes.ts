import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inheritedEnvironment } from './inherited-environment.js';

/**
 * The real control-plane and agent processes, for e2e tests and the developer stack. Each runs as
 * `node_modules/.bin/tsx src/main.ts` (no npm in between, so a signal sent to the PID is relayed by
 * tsx to the program) in a process group of its own, so that a forced stop also reaches what it
 * spawned. Every process started here is tracked until it exits: `stopAllProcesses()` in teardown.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** At least 16 characters, as the control plane requires of `JWT_SECRET`. */
export const TEST_JWT_SECRET = 'meridian-test-secret-not-for-production';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type OutputListener = (line: string, stream: 'stdout' | 'stderr') => void;

export interface ManagedProcess {
  name: string;
  process: ChildProcess;
  pid: number;
  /** stdout lines so far (pino writes one JSON object per line). */
  logs: string[];
  /** stderr lines so far (tsx and Node errors, stack traces). */
  stderr: string[];
  /** Settles when the process has exited. */
  exited: Promise<ProcessExit>;
  /** Resolves with the first stdout line, past or future, that matches; rejects at the deadline or exit. */
  waitForLog(match: LogMatch, options?: { timeoutMs?: number }): Promise<string>;
  /** Sends `signal`, waits for the exit (SIGKILL to the group after `timeoutMs`) and returns it. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
}

/** A substring or pattern of the raw line, or a test of its parsed pino object. */
export type LogMatch = string | RegExp | ((entry: Record<string, unknown>) => boolean);

export interface ControlPlaneProcess extends ManagedProcess {
  baseUrl: string;
  port: number;
  jwtSecret: string;
}

export interface AgentProcess extends ManagedProcess {
  nodeId: string;
}

export interface StartControlPlaneOptions {
  databaseUrl: string;
  amqpUrl: string;
  prefix: string;
  jwtSecret?: string;
  /** A free port is picked when absent. */
  port?: number;
  host?: string;
  env?: Record<string, string>;
  onOutput?: OutputListener;
  readyTimeoutMs?: number;
}

export interface StartAgentOptions {
  amqpUrl: string;
  prefix: string;
  nodeId: string;
  orgId: string;
  maxConcurrency?: number;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  onOutput?: OutputListener;
  readyTimeoutMs?: number;
}

const running = new Set<ManagedProcess>();

/** Starts the control plane and resolves once `GET /readyz` answers 200. */
export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlaneProcess> {
  const port = options.port ?? (await findFreePort());
  const host = options.host ?? '127.0.0.1';
  const jwtSecret = options.jwtSecret ?? TEST_JWT_SECRET;
  const baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const child = spawnManaged(
    'control-plane',
    `${ROOT}services/control-plane`,
    {
      DATABASE_URL: options.databaseUrl,
      AMQP_URL: options.amqpUrl,
      PORT: String(port),
      HOST: host,
      JWT_SECRET: jwtSecret,
      TOPOLOGY_PREFIX: options.prefix,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    options.onOutput,
  );
  await untilReady(
    child,
    options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    `GET ${baseUrl}/readyz to answer 200`,
    async () => {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status === 200;
    },
  );
  return Object.assign(child, { baseUrl, port, jwtSecret });
}

/** Starts an agent and resolves once it logs that it started (connected to the broker). */
export async function startAgent(options: StartAgentOptions): Promise<AgentProcess> {
  const labels = Object.entries(options.labels ?? {}).map(([key, value]) => `${key}=${value}`);
  const child = await startAgentProcess({
    name: `agent ${options.nodeId}`,
    env: {
      AMQP_URL: options.amqpUrl,
      TOPOLOGY_PREFIX: options.prefix,
      NODE_ID: options.nodeId,
      ORG_ID: options.orgId,
      MAX_CONCURRENCY: String(options.maxConcurrency ?? 4),
      ...(labels.length > 0 ? { LABELS: labels.join(',') } : {}),
      // A directory of its own unless the test gives one (to restart an agent on the same state).
      AGENT_DATA_DIR: mkdtempSync(join(tmpdir(), 'meridian-agent-')),
      ...options.env,
    },
    onOutput: options.onOutput,
    readyTimeoutMs: options.readyTimeoutMs,
  });
  return Object.assign(child, { nodeId: options.nodeId });
}

export interface StartAgentProcessOptions {
  name: string;
  /** The agent's whole configuration (nothing of it is inherited from the parent's shell). */
  env: Record<string, string>;
  onOutput?: OutputListener | undefined;
  readyTimeoutMs?: number | undefined;
}

/**
 * Starts an agent configured by `env` alone (an enrolled agent names no node: its credentials do)
 * and resolves once it logs that it started.
 */
export async function startAgentProcess(options: StartAgentProcessOptions): Promise<ManagedProcess> {
  const child = spawnManaged(
    options.name,
    `${ROOT}agent`,
    { LOG_LEVEL: 'info', ...options.env },
    options.onOutput,
  );
  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  await untilReady(child, timeoutMs, "a log line with msg 'agent started'", () =>
    child.logs.some(isAgentStarted),
  );
  return child;
}

/** Processes started here that have not exited yet (for leak checks in `afterEach`). */
export function runningProcesses(): ManagedProcess[] {
  return [...running];
}

/** Stops every process started here that is still running, all at once. */
export async function stopAllProcesses(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(signal)));
}

/** Asks the kernel for a free port on the loopback interface. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a listening socket'));
      });
    });
  });
}

/** The last lines of a process's output, for error messages. */
export function formatLogs(child: ManagedProcess, lastLines = 80): string {
  const stdout = child.logs.slice(-lastLines).join('\n');
  const stderr = child.stderr.slice(-lastLines).join('\n');
  return `--- ${child.name} stdout (last ${lastLines} lines) ---\n${stdout || '(empty)'}\n--- ${child.name} stderr ---\n${stderr || '(empty)'}`;
}

function isAgentStarted(line: string): boolean {
  const entry = parseLogLine(line);
  return typeof entry?.msg === 'string' && entry.msg.includes('agent started');
}

function spawnManaged(
  name: string,
  cwd: string,
  env: Record<string, string>,
  onOutput: OutputListener | undefined,
): ManagedProcess {
  const inherited = inheritedEnvironment();
  const child = spawn(TSX, ['src/main.ts'], {
    cwd,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${name} (${TSX})`);
  const pid = child.pid;
  const logs: string[] = [];
  const stderr: string[] = [];
  const lineWaiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    logs.push(line);
    onOutput?.(line, 'stdout');
    for (const wake of lineWaiters) wake();
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    onOutput?.(line, 'stderr');
  });

  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let isRunning = true;

  const managed: ManagedProcess = {
    name,
    process: child,
    pid,
    logs,
    stderr,
    exited,
    waitForLog(match, { timeoutMs = 10_000 } = {}) {
      const test = toLineTest(match);
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = logs.find(test);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${name}: no log line matching ${String(match)} within ${timeoutMs} ms\n${formatLogs(managed)}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          lineWaiters.delete(check);
        };
        lineWaiters.add(check);
        void exited.then(() => {
          if (!lineWaiters.has(check)) return;
          done();
          reject(new Error(`${name} exited before logging ${String(match)}\n${formatLogs(managed)}`));
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
      if (isRunning) {
        killQuietly(pid, signal);
        let timer: NodeJS.Timeout | undefined;
        const forced = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        const outcome = await Promise.race([
          exited.then(() => 'exited' as const),
          forced.then(() => 'timeout' as const),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') killQuietly(-pid, 'SIGKILL');
      }
      const result = await exited;
      killQuietly(-pid, 'SIGKILL'); // anything the process left behind in its group
      return result;
    },
  };

  running.add(managed);
  void exited.then(() => {
    isRunning = false;
    running.delete(managed);
  });
  return managed;
}

/**
 * Polls `isReady` until it is true, failing early (with the output) if the process exits and at
 * the deadline (after killing the process).
 */
async function untilReady(
  child: ManagedProcess,
  timeoutMs: number,
  description: string,
  isReady: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let hasExited = false;
  void child.exited.then(() => {
    hasExited = true;
  });
  for (;;) {
    if (hasExited) {
      const exit = await child.exited;
      throw new Error(
        `${child.name} exited (code ${exit.code}, signal ${exit.signal}) before ${description}\n${formatLogs(child)}`,
      );
    }
    if (
      await Promise.resolve()
        .then(isReady)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) {
      await child.stop('SIGKILL');
      throw new Error(
        `${child.name} was not ready within ${timeoutMs} ms (waiting for ${description})\n${formatLogs(child)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function toLineTest(match: LogMatch): (line: string) => boolean {
  if (typeof match === 'string') return (line) => line.includes(match);
  if (match instanceof RegExp) return (line) => match.test(line);
  return (line) => {
    const entry = parseLogLine(line);
    return entry !== undefined && match(entry);
  };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// Last resort when the test process exits without teardown: detached children would outlive it.
process.once('exit', () => {
  for (const child of running) killQuietly(-child.pid, 'SIGKILL');
});
