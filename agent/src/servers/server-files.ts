import { join } from 'node:path';
import { isValidServerId } from '@meridian/contracts/task-types/common';

/** The agent's own files about one server, in `<stateDir>/<serverId>/` (never in the server's directory). */
export interface ServerFiles {
  dir: string;
  /** The spec it was last started with (ServerSpec, defaults applied). */
  spec: string;
  /** State, process (pid, /proc start time), restarts, last exit: see server-state-file.ts. */
  state: string;
  /** A FIFO: the server's stdin, opened read-write by its wrapper so that it never sees EOF. */
  stdin: string;
  /** stdout and stderr, appended by the wrapper; rotated to `console.log.1`. */
  console: string;
  previousConsole: string;
  /** The exit status the wrapper records once the program ended (survives the agent). */
  exitStatus: string;
}

export function serverFiles(stateDir: string, serverId: string): ServerFiles {
  if (!isValidServerId(serverId)) throw new Error(`invalid server id "${serverId}"`);
  const dir = join(stateDir, serverId);
  return {
    dir,
    spec: join(dir, 'spec.json'),
    state: join(dir, 'state.json'),
    stdin: join(dir, 'stdin'),
    console: join(dir, 'console.log'),
    previousConsole: join(dir, 'console.log.1'),
    exitStatus: join(dir, 'exit-status'),
  };
}
