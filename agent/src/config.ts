import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HEARTBEAT_INTERVAL_SECONDS, NodeLabelsSchema } from '@meridian/contracts/messages/agent-heartbeat';
import { identifierText } from '@meridian/contracts/storable';
import { DEFAULT_TOPOLOGY_PREFIX, isValidNodeId } from '@meridian/contracts/topology';

/**
 * Variables of the agent's own environment handed to the processes it starts. Everything else
 * (AMQP_URL with its credentials first of all) stays out of tasks; a Command adds its own `env`.
 */
const TASK_ENV_PASSTHROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

const labelList = z
  .string()
  .transform((value, ctx) => {
    const labels: Record<string, string> = {};
    for (const entry of value.split(',')) {
      if (entry.trim() === '') continue;
      const separator = entry.indexOf('=');
      const key = separator === -1 ? '' : entry.slice(0, separator).trim();
      if (key === '') {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry.trim()}" is not key=value (e.g. region=eu,gpu=true)`,
        });
        return z.NEVER;
      }
      labels[key] = entry.slice(separator + 1).trim();
    }
    return labels;
  })
  .pipe(NodeLabelsSchema);

const ConfigSchema = z.object({
  AMQP_URL: z.string().min(1).default('amqp://guest:guest@127.0.0.1:5672'),
  NODE_ID: z
    .string()
    .refine(isValidNodeId, 'letters, digits, ".", "_" and "-", at most 200, not starting with a sign'),
  ORG_ID: identifierText(200),
  AGENT_ID: identifierText(200).optional(),
  MAX_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(10),
  LABELS: labelList.default({}),
  TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i)
    .default(DEFAULT_TOPOLOGY_PREFIX),
  HEARTBEAT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(HEARTBEAT_INTERVAL_SECONDS * 1000),
  OUTPUT_MAX_BYTES: z.coerce.number().int().min(256).default(65_536),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
  LOG_FLUSH_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  LOG_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024 * 1024)
    .default(1024 * 1024),
  AGENT_DATA_DIR: z.string().min(1).optional(),
  SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .max(1024 * 1024 * 1024 * 1024)
    .default(256 * 1024 * 1024),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface AgentConfig {
  amqpUrl: string;
  nodeId: string;
  orgId: string;
  agentId: string;
  maxConcurrency: number;
  labels: Record<string, string>;
  topologyPrefix: string;
  heartbeatIntervalMs: number;
  /** Per stream (stdout, stderr): the head and the tail are kept, the middle is counted. */
  outputMaxBytes: number;
  shutdownGraceSeconds: number;
  /** Live logs: how long lines are collected before a LogChunk is sent. */
  logFlushMs: number;
  /** Live logs, per execution: bytes read and not yet confirmed by the broker; beyond, lines are dropped. */
  logBufferBytes: number;
  /** Absolute; the journal, the spool and the executions' output files (readable by the agent's user only). */
  dataDir: string;
  /** Bytes of unsent messages kept on disk while the broker is unreachable; beyond, the oldest log lines go. */
  spoolMaxBytes: number;
  logLevel: z.infer<typeof ConfigSchema>['LOG_LEVEL'];
  /** Base environment of the processes the agent starts (see TASK_ENV_PASSTHROUGH). */
  taskEnv: Record<string, string>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface HostIdentity {
  hostname: string;
  pid: number;
  /** Relative AGENT_DATA_DIR values, and the default, are resolved from here. */
  cwd?: string;
}

/** Parses the environment once, at start-up; nothing else reads `process.env`. */
export function loadConfig(
  env: Record<string, string | undefined>,
  host: HostIdentity = { hostname: hostname(), pid: process.pid, cwd: process.cwd() },
): AgentConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid agent configuration: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  return {
    amqpUrl: c.AMQP_URL,
    nodeId: c.NODE_ID,
    orgId: c.ORG_ID,
    agentId: c.AGENT_ID ?? `${c.NODE_ID}-${host.hostname}-${host.pid}`.slice(0, 200),
    maxConcurrency: c.MAX_CONCURRENCY,
    labels: c.LABELS,
    topologyPrefix: c.TOPOLOGY_PREFIX,
    heartbeatIntervalMs: c.HEARTBEAT_INTERVAL_MS,
    outputMaxBytes: c.OUTPUT_MAX_BYTES,
    shutdownGraceSeconds: c.SHUTDOWN_GRACE_SECONDS,
    logFlushMs: c.LOG_FLUSH_MS,
    logBufferBytes: c.LOG_BUFFER_BYTES,
    dataDir: resolve(host.cwd ?? process.cwd(), c.AGENT_DATA_DIR ?? join('.meridian-agent', c.NODE_ID)),
    spoolMaxBytes: c.SPOOL_MAX_BYTES,
    logLevel: c.LOG_LEVEL,
    taskEnv: Object.fromEntries(
      TASK_ENV_PASSTHROUGH.flatMap((name) => {
        const value = env[name];
        return value === undefined ? [] : [[name, value]];
      }),
    ),
  };
}
