import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './durable-file.js';
import { isProcessRunning, readProcessStartTime } from './process-identity.js';

const LOCK = 'agent.pid';

/**
 * Opens AGENT_DATA_DIR (created with mode 0700) for this agent process. Two agents sharing one
 * directory would each resume the other's executions: a second one refuses to start while the
 * process named in `agent.pid` (pid and start time) still runs.
 */
export function openDataDir(dir: string, logger: Logger): { release(): void } {
  ensurePrivateDir(dir);
  const lock = join(dir, LOCK);
  try {
    const holder = JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; startTime: string };
    if (holder.pid !== process.pid && isProcessRunning(holder)) {
      throw new Error(`AGENT_DATA_DIR ${dir} is used by another agent process (pid ${holder.pid})`);
    }
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('AGENT_DATA_DIR')) throw error;
  }
  const startTime = readProcessStartTime(process.pid) ?? '';
  writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime }), { mode: PRIVATE_FILE_MODE });
  logger.debug({ dataDir: dir }, 'data directory opened');
  return { release: () => rmSync(lock, { force: true }) };
}
