import { pino, type Logger } from 'pino';
import type { AgentConfig } from './config.js';

export type { Logger };

/** JSON logs on stdout; every line carries the node and agent it comes from. */
export function createLogger(config: Pick<AgentConfig, 'logLevel' | 'nodeId' | 'agentId'>): Logger {
  return pino({
    level: config.logLevel,
    base: { nodeId: config.nodeId, agentId: config.agentId, pid: process.pid },
  });
}
