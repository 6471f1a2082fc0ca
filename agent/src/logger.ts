import { pino, type Logger } from 'pino';
import { serializeError } from '@meridian/contracts/logging/serialize-error';
import type { AgentConfig } from './config.js';

export type { Logger };

/**
 * JSON logs on stdout; every line carries the node and agent it comes from. Errors keep only their
 * kind, code, a bounded message and the stack (see serialize-error.ts): no message bodies.
 */
export function createLogger(config: Pick<AgentConfig, 'logLevel' | 'nodeId' | 'agentId'>): Logger {
  return pino({
    level: config.logLevel,
    base: { nodeId: config.nodeId, agentId: config.agentId, pid: process.pid },
    serializers: { err: serializeError, error: serializeError },
  });
}
