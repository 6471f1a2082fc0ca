import { existsSync, readdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory } from '../state/durable-file.js';

/**
 * Puts `staging` in the place of `target` with two renames in one file system: `target` to
 * `old`, `staging` to `target`, then `old` is removed. Should the second rename fail, the old
 * directory is put back, so the server is never left without one.
 */
export async function swapDirectory(target: string, staging: string, old: string): Promise<void> {
  const hadTarget = existsSync(target);
  if (hadTarget) renameSync(target, old);
  try {
    renameSync(staging, target);
  } catch (error) {
    if (hadTarget) renameSync(old, target);
    throw error;
  }
  syncDirectory(dirname(target));
  if (hadTarget) await rm(old, { recursive: true, force: true });
}

/**
 * A task's working directories beside the server directory (same file system, so the swap is two
 * renames). Their names start with "." and so never collide with a server id.
 */
export function swapDirectoriesOf(root: string, serverId: string, executionId: string) {
  return {
    staging: join(root, `.staging-${serverId}-${executionId}`),
    old: join(root, `.old-${serverId}-${executionId}`),
  };
}

const EXECUTION_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * Mends what an agent that died mid-swap left of a server's swaps: an `.old-` directory with no
 * server directory beside it is the server directory renamed away and not yet replaced, so it is
 * put back; other `.old-` and `.staging-` directories of the server are removed. Call only while
 * holding the server's queue (no swap of it in progress).
 */
export async function recoverInterruptedSwaps(root: string, serverId: string, target: string): Promise<void> {
  if (!existsSync(root)) return;
  const escaped = serverId.replace(/[.]/g, '\\.');
  const old = new RegExp(`^\\.old-${escaped}-${EXECUTION_ID}$`);
  const staging = new RegExp(`^\\.staging-${escaped}-${EXECUTION_ID}$`);
  for (const name of readdirSync(root)) {
    if (old.test(name) && !existsSync(target)) renameSync(join(root, name), target);
    else if (old.test(name) || staging.test(name))
      await rm(join(root, name), { recursive: true, force: true });
  }
}
