import { readdirSync } from 'node:fs';
import { compileLinearRegExp, type LinearRegExp } from '@meridian/contracts/linear-regexp';
import type { Logger } from 'pino';
import { isValidServerId } from '@meridian/contracts/task-types/common';
import {
  MAX_SERVERS_PER_NODE,
  type ServerReport,
  type ServerSpec,
  type ServerState,
} from '@meridian/contracts/task-types/server-spec';
import type { ServersConfig } from '../config.js';
import { readExitStatus } from '../handlers/process-group.js';
import { ensurePrivateDir } from '../state/durable-file.js';
import { ConsoleLog } from './console-log.js';
import { OperationQueue } from './operation-queue.js';
import { ProcessServerRuntime } from './process-server-runtime.js';
import { decideAfterExit, isActiveState } from './restart-policy.js';
import { serverDirectory, type ServerHost } from './server-host.js';
import { serverFiles } from './server-files.js';
import { persistedOf, reportOf, type ServerRecord } from './server-record.js';
import type {
  ProcessRecord,
  ResourceUsage,
  ServerExit,
  ServerProcess,
  ServerRuntime,
} from './server-runtime.js';
import {
  readServerFiles,
  writeServerSpec,
  writeServerState,
  type PersistedServer,
} from './server-state-file.js';
import { stopWithEscalation, type StopPlan, type StoppedBy } from './stop-escalation.js';
import { prepareWorkingDirectory } from './working-directory.js';

export interface ServerSupervisorOptions {
  servers: Pick<ServersConfig, 'root' | 'stateDir' | 'logMaxBytes'>;
  /** Environment every server starts from; its spec's `env` is laid over it. */
  baseEnv: Record<string, string>;
  runtime?: ServerRuntime;
  /** After every change of a server's state (the agent sends a heartbeat). */
  onChange?: (report: ServerReport) => void;
  logger: Logger;
}

export type ReadyOutcome = 'ready' | 'exited' | 'timeout' | 'aborted';

export interface StopOutcome {
  exitCode: number | null;
  exitSignal: string | null;
  stoppedBy: StoppedBy | 'already-stopped';
}

export interface ServerSnapshot extends ServerReport {
  spec: ServerSpec | undefined;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Supervises the servers of this node: starts them (through a ServerRuntime), follows their
 * console logs, applies their restart policies, stops them, and keeps what it knows in the state
 * directory so that a restarted agent adopts the servers still running. Shutting the agent down
 * leaves the servers running: `close()` only stops watching them.
 */
export class ServerSupervisor implements ServerHost {
  readonly #records = new Map<string, ServerRecord>();
  readonly #queue = new OperationQueue();
  readonly #runtime: ServerRuntime;
  #closed = false;

  constructor(private readonly options: ServerSupervisorOptions) {
    this.#runtime = options.runtime ?? new ProcessServerRuntime();
  }

  directoryOf(serverId: string): string {
    return serverDirectory(this.options.servers.root, serverId);
  }

  isRunning(serverId: string): boolean {
    const record = this.#records.get(serverId);
    return record !== undefined && (record.process !== undefined || isActiveState(record.state));
  }

  exclusive<T>(serverId: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    return this.#queue.run(serverId, signal, work);
  }

  /** Loads every server kept in the state directory: adopts the live ones, settles the dead ones. */
  load(): void {
    ensurePrivateDir(this.options.servers.stateDir);
    for (const id of readdirSync(this.options.servers.stateDir).sort()) {
      if (!isValidServerId(id)) continue;
      const files = serverFiles(this.options.servers.stateDir, id);
      const { spec, state, problems } = readServerFiles(files);
      for (const problem of problems)
        this.options.logger.warn({ serverId: id, problem }, 'unreadable server file');
      if (!spec && !state) continue;
      const record = this.#newRecord(id, spec, state);
      this.#records.set(id, record);
      this.#resume(record, state);
    }
  }

  /** Stops watching the servers (they keep running). */
  close(): void {
    this.#closed = true;
    for (const record of this.#records.values()) {
      clearTimeout(record.restartTimer);
      record.process?.release();
      record.console.close();
    }
  }

  reports(): ServerReport[] {
    return [...this.#records.values()].slice(0, MAX_SERVERS_PER_NODE).map(reportOf);
  }

  snapshot(serverId: string): ServerSnapshot | undefined {
    const record = this.#records.get(serverId);
    return record && { ...reportOf(record), spec: record.spec };
  }

  /** Starts the server with `spec` (kept for later starts); the caller checked it has no process. */
  async start(serverId: string, spec: ServerSpec, options: { watched: boolean }): Promise<ProcessRecord> {
    const record = this.#recordFor(serverId);
    if (record.process)
      throw new Error(`server ${serverId} is already running (pid ${record.process.record.pid})`);
    clearTimeout(record.restartTimer);
    record.restartTimer = undefined;
    writeServerSpec(record.files, spec);
    record.spec = spec;
    record.restarts = 0;
    record.startWatched = options.watched;
    return this.#spawn(record, spec);
  }

  /** Resolves once the process `pid` of the server printed its ready line, or why not. */
  waitForReady(serverId: string, pid: number, signal: AbortSignal, timeoutMs: number): Promise<ReadyOutcome> {
    const record = this.#require(serverId);
    return new Promise((resolve) => {
      const check = () => {
        if (record.process?.record.pid !== pid) finish('exited');
        else if (record.state === 'running') finish('ready');
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const onAbort = () => finish('aborted');
      const finish = (outcome: ReadyOutcome) => {
        clearTimeout(timer);
        record.watchers.delete(check);
        signal.removeEventListener('abort', onAbort);
        record.startWatched = false;
        resolve(outcome);
      };
      record.watchers.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) finish('aborted');
      else check();
    });
  }

  /**
   * Stops the server (see stop-escalation.ts) and resolves once it exited; a restart pending
   * after a crash is called off. Undefined when `signal` aborted the wait.
   */
  async stop(
    serverId: string,
    options: { graceful: boolean; timeoutSeconds?: number },
    signal: AbortSignal,
  ): Promise<StopOutcome | undefined> {
    const record = this.#records.get(serverId);
    if (!record) return { exitCode: null, exitSignal: null, stoppedBy: 'already-stopped' };
    const last = () => ({ exitCode: record.lastExitCode, exitSignal: record.lastExitSignal });
    if (record.restartTimer || (record.state === 'restarting' && !record.process)) {
      clearTimeout(record.restartTimer);
      record.restartTimer = undefined;
      this.#setState(record, 'stopped');
    }
    const process = record.process;
    if (!process) return { ...last(), stoppedBy: 'already-stopped' };
    record.stopRequested = true;
    this.#setState(record, 'stopping');
    const plan: StopPlan = {
      graceful: options.graceful ? record.spec?.stop : undefined,
      timeoutMs: (options.timeoutSeconds ?? record.spec?.stopTimeoutSeconds ?? 30) * 1000,
    };
    const ended = process.exited.then(() => record.exitHandled);
    const logger = this.options.logger.child({ serverId });
    const stoppedBy = await stopWithEscalation(process, ended, plan, signal, (step, error) =>
      logger.info({ err: error, pid: process.record.pid }, `stopping the server: ${step}`),
    );
    return stoppedBy && { ...last(), stoppedBy };
  }

  /** Lines the server prints from now on, until the returned function is called. */
  subscribe(serverId: string, listener: (line: string) => void): () => void {
    const record = this.#recordFor(serverId);
    record.lineListeners.add(listener);
    return () => record.lineListeners.delete(listener);
  }

  /** One line to the server's console; throws when it has no process or the console does not take it. */
  writeLine(serverId: string, line: string): void {
    const process = this.#records.get(serverId)?.process;
    if (!process) throw new Error(`server ${serverId} is not running`);
    process.writeLine(line);
  }

  async usage(serverId: string, sampleMs: number): Promise<ResourceUsage | undefined> {
    const process = this.#records.get(serverId)?.process;
    return process ? process.usage(sampleMs) : undefined;
  }

  #newRecord(id: string, spec: ServerSpec | undefined, state: PersistedServer | undefined): ServerRecord {
    const files = serverFiles(this.options.servers.stateDir, id);
    ensurePrivateDir(files.dir);
    const record: ServerRecord = {
      id,
      files,
      spec,
      state: state?.state ?? 'stopped',
      process: undefined,
      stopRequested: state?.stopRequested ?? false,
      startWatched: false,
      restarts: state?.restarts ?? 0,
      lastExitCode: state?.lastExitCode ?? null,
      lastExitSignal: state?.lastExitSignal ?? null,
      changedAt: state ? new Date(state.changedAt) : new Date(),
      console: undefined as unknown as ConsoleLog,
      readyPattern: this.#keptReadyPattern(id, spec?.readyPattern),
      restartTimer: undefined,
      exitHandled: undefined,
      watchers: new Set(),
      lineListeners: new Set(),
    };
    record.console = new ConsoleLog(
      { current: files.console, previous: files.previousConsole },
      this.options.servers.logMaxBytes,
      (line) => this.#onLine(record, line),
    );
    record.console.follow();
    return record;
  }

  #recordFor(serverId: string): ServerRecord {
    const existing = this.#records.get(serverId);
    if (existing) return existing;
    if (!isValidServerId(serverId)) throw new Error(`invalid server id "${serverId}"`);
    if (this.#records.size >= MAX_SERVERS_PER_NODE) {
      throw new Error(`this node already hosts ${MAX_SERVERS_PER_NODE} servers, the most it supervises`);
    }
    const record = this.#newRecord(serverId, undefined, undefined);
    this.#records.set(serverId, record);
    return record;
  }

  #require(serverId: string): ServerRecord {
    const record = this.#records.get(serverId);
    if (!record) throw new Error(`server ${serverId} is not known on this node`);
    return record;
  }

  /** After an agent restart: adopt the process still running, or settle how it ended. */
  #resume(record: ServerRecord, state: PersistedServer | undefined): void {
    const logger = this.options.logger.child({ serverId: record.id });
    const kept = state?.process;
    if (kept) {
      const process = this.#runtime.adopt(kept, record.files);
      if (process) {
        logger.info({ pid: kept.pid }, 'after a restart: adopting the server still running');
        record.process = process;
        this.#setState(record, record.state === 'stopping' ? 'stopping' : 'running', { keepChangedAt: true });
        this.#watch(record, process);
        return;
      }
      logger.info({ pid: kept.pid }, 'after a restart: the server ended while the agent was down');
      const exit = readExitStatus(record.files.exitStatus) ?? { exitCode: null, exitSignal: null };
      this.#settleExit(record, exit, Date.now() - Date.parse(kept.startedAt));
      return;
    }
    if (record.state === 'restarting') this.#scheduleRestart(record, 0);
    else if (isActiveState(record.state)) this.#setState(record, 'stopped');
  }

  async #spawn(record: ServerRecord, spec: ServerSpec): Promise<ProcessRecord> {
    const cwd = prepareWorkingDirectory(this.directoryOf(record.id), spec.workingDirectory);
    // Lines printed before this start are not this start's (a ready line among them least of all).
    record.console.catchUp();
    record.readyPattern =
      spec.readyPattern === undefined ? undefined : compileLinearRegExp(spec.readyPattern);
    record.stopRequested = false;
    const previousState = record.state;
    this.#setState(record, 'starting', { quiet: true });
    let process: ServerProcess;
    try {
      process = await this.#runtime.start({
        serverId: record.id,
        argv: spec.argv,
        cwd,
        env: { ...this.options.baseEnv, ...spec.env },
        files: record.files,
      });
    } catch (error) {
      this.#setState(record, previousState === 'restarting' ? 'crashed' : previousState);
      throw error;
    }
    record.process = process;
    this.options.logger.info({ serverId: record.id, pid: process.record.pid }, 'server started');
    this.#setState(record, record.readyPattern && record.state === 'starting' ? 'starting' : 'running');
    this.#watch(record, process);
    return process.record;
  }

  #watch(record: ServerRecord, process: ServerProcess): void {
    record.exitHandled = process.exited.then((exit) => {
      if (this.#closed || record.process !== process) return;
      record.console.flush();
      record.process = undefined;
      this.#settleExit(record, exit, Date.now() - Date.parse(process.record.startedAt));
    });
  }

  #settleExit(record: ServerRecord, exit: ServerExit, uptimeMs: number): void {
    const policy =
      record.startWatched || !record.spec ? ({ type: 'never' } as const) : record.spec.restartPolicy;
    const decision = decideAfterExit({
      policy,
      restarts: record.restarts,
      uptimeMs,
      ...exit,
      stopRequested: record.stopRequested,
    });
    record.lastExitCode = exit.exitCode;
    record.lastExitSignal = exit.exitSignal;
    record.restarts = decision.restarts;
    record.stopRequested = false;
    this.options.logger.info({ serverId: record.id, ...exit, state: decision.state }, 'server exited');
    this.#setState(record, decision.state);
    if (decision.state === 'restarting') this.#scheduleRestart(record, decision.delayMs);
  }

  #scheduleRestart(record: ServerRecord, delayMs: number): void {
    if (record.state !== 'restarting') this.#setState(record, 'restarting');
    record.restartTimer = setTimeout(() => {
      record.restartTimer = undefined;
      void this.#queue
        .run(record.id, NEVER_ABORTED, async () => {
          const spec = record.spec;
          if (this.#closed || record.state !== 'restarting' || record.process || !spec) return;
          await this.#spawn(record, spec);
        })
        .catch((error: unknown) => {
          this.options.logger.error({ err: error, serverId: record.id }, 'could not restart the server');
          if (record.state !== 'crashed') this.#setState(record, 'crashed');
        });
    }, delayMs).unref();
  }

  #onLine(record: ServerRecord, line: string): void {
    if (record.state === 'starting' && record.readyPattern?.test(line)) this.#setState(record, 'running');
    for (const listener of record.lineListeners) listener(line);
  }

  /**
   * The ready pattern of a spec kept on disk. One the agent no longer accepts (written before the
   * patterns were RE2) is dropped with a warning: the server is then ready once started.
   */
  #keptReadyPattern(serverId: string, pattern: string | undefined): LinearRegExp | undefined {
    if (pattern === undefined) return undefined;
    try {
      return compileLinearRegExp(pattern);
    } catch (error) {
      this.options.logger.warn({ serverId, err: error }, 'kept spec: readyPattern refused, ignored');
      return undefined;
    }
  }

  #setState(
    record: ServerRecord,
    state: ServerState,
    options: { keepChangedAt?: boolean; quiet?: boolean } = {},
  ): void {
    const changed = record.state !== state;
    record.state = state;
    if (changed && !options.keepChangedAt) record.changedAt = new Date();
    if (!this.#closed) writeServerState(record.files, persistedOf(record));
    for (const watcher of [...record.watchers]) watcher();
    if (!options.quiet && !this.#closed) this.options.onChange?.(reportOf(record));
  }
}
