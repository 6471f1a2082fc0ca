import type { TaskHandler } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { createServerCommandHandler } from './server-command.js';
import { createServerLogsHandler } from './server-logs.js';
import { createServerRestartHandler } from './server-restart.js';
import { createServerStartHandler } from './server-start.js';
import { createServerStatusHandler } from './server-status.js';
import { createServerStopHandler } from './server-stop.js';

/** The server lifecycle handlers, all on one supervisor. */
export function createServerHandlers(supervisor: ServerSupervisor, stateDir: string): TaskHandler[] {
  return [
    createServerStartHandler(supervisor),
    createServerStopHandler(supervisor),
    createServerRestartHandler(supervisor),
    createServerCommandHandler(supervisor),
    createServerStatusHandler(supervisor),
    createServerLogsHandler(stateDir),
  ] as TaskHandler[];
}
