import { join } from 'node:path';
import { isValidServerId } from '@meridian/contracts/task-types/common';

/**
 * What the handlers of a server's files (backups, restores, updates, transfers) need of the
 * servers on this node. The supervisor implements it; a container runtime would too.
 */
export interface ServerHost {
  /** The server's directory (absolute): `<servers root>/<serverId>`. Throws for an invalid id. */
  directoryOf(serverId: string): string;
  /** True while the server has a process (starting, running, stopping, or one being restarted). */
  isRunning(serverId: string): boolean;
  /**
   * Runs `work` while no other lifecycle or file task of this server runs (one queue per server),
   * so that a start never races a restore. `signal` aborts the wait (cancel, deadline).
   */
  exclusive<T>(serverId: string, signal: AbortSignal, work: () => Promise<T>): Promise<T>;
}

/** `<root>/<serverId>`; refuses an id that is not a plain directory name. */
export function serverDirectory(root: string, serverId: string): string {
  if (!isValidServerId(serverId)) throw new Error(`invalid server id "${serverId}"`);
  return join(root, serverId);
}
