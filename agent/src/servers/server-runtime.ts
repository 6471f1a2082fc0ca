import type { ServerFiles } from './server-files.js';

/** How a server's process ended. Both null: it ended while nobody watched and left no status. */
export interface ServerExit {
  exitCode: number | null;
  exitSignal: string | null;
}

/** Resource use of a server (all its processes), sampled over a short interval. */
export interface ResourceUsage {
  /** 100 = one core busy. */
  cpuPercent: number;
  rssBytes: number;
  processes: number;
}

/** What identifies a server's process across agent restarts (kept in its state file). */
export interface ProcessRecord {
  pid: number;
  /** /proc start time of the pid: a reused pid has another one. */
  startTime: string;
  startedAt: string;
}

export interface ServerLaunch {
  serverId: string;
  argv: string[];
  /** Absolute, inside the server's directory (checked by the caller). */
  cwd: string;
  env: Record<string, string>;
  files: ServerFiles;
}

/** One running server process, spawned now or adopted from an earlier agent process. */
export interface ServerProcess {
  readonly record: ProcessRecord;
  /** Settles once it ended; never rejects. */
  readonly exited: Promise<ServerExit>;
  /** One line to its console (stdin). Throws when the console cannot take it. */
  writeLine(line: string): void;
  /** To every process of the server; false when none is left. */
  signal(signal: NodeJS.Signals): boolean;
  usage(sampleMs: number): Promise<ResourceUsage>;
  /** Stops watching it (agent shutdown): the process keeps running, `exited` stays pending. */
  release(): void;
}

/**
 * Runs servers. The process runtime runs them as process groups on this host; a container runtime
 * could implement the same interface later.
 */
export interface ServerRuntime {
  start(launch: ServerLaunch): Promise<ServerProcess>;
  /** The process of an earlier agent, when it still runs (same pid and start time). */
  adopt(record: ProcessRecord, files: ServerFiles): ServerProcess | undefined;
}
