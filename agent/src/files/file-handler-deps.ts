import type { ServersConfig } from '../config.js';
import type { ServerHost } from '../servers/server-host.js';

/** What the file handlers are built from (see createFileHandlers). */
export interface FileHandlerDeps {
  host: ServerHost;
  servers: ServersConfig;
  /** Base environment of a Custom script (the agent's task environment); the payload's `env` is laid over it. */
  baseEnv: Record<string, string>;
}
