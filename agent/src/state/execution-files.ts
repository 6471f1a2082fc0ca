import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WRAPPER_NAME } from '../handlers/process-group.js';
import type { JournalledProcess } from './execution-journal.js';
import { readProcessStartTime } from './process-identity.js';

/** The directory of one execution in AGENT_DATA_DIR: its output files and exit status. */
export function executionDir(dataDir: string, executionId: string): string {
  return join(dataDir, 'executions', executionId);
}

export function removeExecutionDir(dataDir: string, executionId: string): void {
  rmSync(executionDir(dataDir, executionId), { recursive: true, force: true });
}

/**
 * The wrapper of the execution whose directory is `dir`, found by its command line: for a
 * program spawned just before the agent died, before its pid reached the journal.
 */
export function findWrapper(dir: string): JournalledProcess | undefined {
  const marker = `${WRAPPER_NAME}\0${join(dir, 'stdout')}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) continue;
    } catch {
      continue;
    }
    const startTime = readProcessStartTime(Number(entry));
    if (startTime) return { pid: Number(entry), startTime };
  }
  return undefined;
}
