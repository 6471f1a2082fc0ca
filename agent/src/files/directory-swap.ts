import { existsSync, renameSync } from 'node:fs';
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
