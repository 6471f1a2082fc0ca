import type { ServerReport, ServerSpec, ServerState } from '@meridian/contracts/task-types/server-spec';
import type { LinearRegExp } from '@meridian/contracts/linear-regexp';
import type { ConsoleLog } from './console-log.js';
import type { ServerFiles } from './server-files.js';
import type { ServerProcess } from './server-runtime.js';
import type { PersistedServer } from './server-state-file.js';

/** What the supervisor knows of one server (in memory; `persistedOf` is what survives it). */
export interface ServerRecord {
  id: string;
  files: ServerFiles;
  spec: ServerSpec | undefined;
  state: ServerState;
  process: ServerProcess | undefined;
  stopRequested: boolean;
  /** A ServerStart/Restart task waits for its ready line: an exit before it is no crash to restart. */
  startWatched: boolean;
  restarts: number;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  changedAt: Date;
  console: ConsoleLog;
  readyPattern: LinearRegExp | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  /** Settles once the exit of the current process was handled (state, restart decision). */
  exitHandled: Promise<void> | undefined;
  /** Called after every change of state or process. */
  watchers: Set<() => void>;
  lineListeners: Set<(line: string) => void>;
}

export function reportOf(record: ServerRecord): ServerReport {
  return {
    serverId: record.id,
    state: record.state,
    pid: record.process?.record.pid ?? null,
    startedAt: record.process?.record.startedAt ?? null,
    lastExitCode: record.lastExitCode,
    lastExitSignal: record.lastExitSignal,
    restarts: record.restarts,
    changedAt: record.changedAt.toISOString(),
  };
}

export function persistedOf(record: ServerRecord): PersistedServer {
  return {
    state: record.state,
    process: record.process?.record ?? null,
    stopRequested: record.stopRequested,
    restarts: record.restarts,
    lastExitCode: record.lastExitCode,
    lastExitSignal: record.lastExitSignal,
    changedAt: record.changedAt.toISOString(),
  };
}
