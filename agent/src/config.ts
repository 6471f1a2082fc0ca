import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HEARTBEAT_INTERVAL_SECONDS, NodeLabelsSchema } from '@meridian/contracts/messages/agent-heartbeat';
import { identifierText } from '@meridian/contracts/storable';
import { DEFAULT_TOPOLOGY_PREFIX, isValidNodeId } from '@meridian/contracts/topology';
import type { SigningPublicKey } from '@meridian/contracts/security/command-signature';
import {
  defaultCredentialsFile,
  readCredentialsFile,
  type StoredCredentials,
} from './identity/credentials-file.js';

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
    .refine(isValidNodeId, 'letters, digits, ".", "_" and "-", at most 200, not starting with a sign')
    .optional(),
  ORG_ID: identifierText(200).optional(),
  AGENT_ID: identifierText(200).optional(),
  MAX_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(10),
  LABELS: labelList.optional(),
  TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i)
    .optional(),
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
  AGENT_CREDENTIALS_FILE: z.string().min(1).optional(),
  ENROLLMENT_TOKEN: z.string().min(1).max(200).optional(),
  CONTROL_PLANE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .max(1024 * 1024 * 1024 * 1024)
    .default(256 * 1024 * 1024),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Every server's directory is `<AGENT_SERVERS_ROOT>/<serverId>`; default `<AGENT_DATA_DIR>/servers`. */
  AGENT_SERVERS_ROOT: z.string().min(1).optional(),
  /** Local backups, `<AGENT_BACKUPS_DIR>/<serverId>/<backupId>.tar.gz`; default `<AGENT_DATA_DIR>/backups`. */
  AGENT_BACKUPS_DIR: z.string().min(1).optional(),
  /** A server's console log is rotated past this size (one previous file is kept). */
  SERVER_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024 * 1024)
    .default(8 * 1024 * 1024),
  /** Largest file a download or upload moves, and largest backup. */
  TRANSFER_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20 * 1024 * 1024 * 1024),
  /** Largest total size, and most entries, an archive may unpack to (a guard against archive bombs). */
  EXTRACT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024 * 1024),
  EXTRACT_MAX_ENTRIES: z.coerce.number().int().min(1).default(1_000_000),
});

type AgentEnv = z.infer<typeof ConfigSchema>;

/**
 * Who the agent is on the broker. `enrolled`: a credentials file (see identity/credentials-file.ts)
 * names the node, its organisation, labels and broker user; commands are verified. `development`:
 * NODE_ID and ORG_ID from the environment, the shared login of AMQP_URL, commands not verified.
 */
export type AgentIdentity =
  | { mode: 'development' }
  | {
      mode: 'enrolled';
      credentialsFile: string;
      brokerUsername: string;
      controlPlaneUrl: string;
      signingKeys: SigningPublicKey[];
    };

export interface AgentConfig {
  identity: AgentIdentity;
  /** Enrolled: with the user and password of the credentials file (read again at each reconnect). */
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
  /** Servers and their files: see docs/agent.md. */
  servers: ServersConfig;
}

export interface ServersConfig {
  /** Absolute; a server's directory is `<root>/<serverId>` and nothing of a server's tasks leaves it. */
  root: string;
  /** Absolute; local backups, one directory per server. */
  backupsDir: string;
  /** Absolute; the agent's own records of each server (spec, process, console log, stdin). */
  stateDir: string;
  logMaxBytes: number;
  transferMaxBytes: number;
  extractMaxBytes: number;
  extractMaxEntries: number;
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

/** What the environment says, before any credentials file is read. */
export interface AgentSettings {
  env: AgentEnv;
  host: HostIdentity;
  /** Absolute. */
  dataDir: string;
  /** Absolute: AGENT_CREDENTIALS_FILE, or `credentials.json` in the data directory. */
  credentialsFile: string;
  /** ENROLLMENT_TOKEN and CONTROL_PLANE_URL: used at start while there is no credentials file. */
  enrollment?: { token: string; controlPlaneUrl: string };
  /** Base environment of the processes the agent starts. */
  taskEnv: Record<string, string>;
}

const currentHost = (): HostIdentity => ({ hostname: hostname(), pid: process.pid, cwd: process.cwd() });

/** Parses the environment once, at start-up; nothing else reads `process.env`. */
export function readSettings(
  env: Record<string, string | undefined>,
  host: HostIdentity = currentHost(),
): AgentSettings {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid agent configuration: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  if (c.ENROLLMENT_TOKEN !== undefined && c.CONTROL_PLANE_URL === undefined) {
    throw new ConfigError('invalid agent configuration: ENROLLMENT_TOKEN needs CONTROL_PLANE_URL');
  }
  const cwd = host.cwd ?? process.cwd();
  const dataDir = resolve(cwd, c.AGENT_DATA_DIR ?? join('.meridian-agent', c.NODE_ID ?? 'default'));
  return {
    env: c,
    host,
    dataDir,
    credentialsFile: c.AGENT_CREDENTIALS_FILE
      ? resolve(cwd, c.AGENT_CREDENTIALS_FILE)
      : defaultCredentialsFile(dataDir),
    ...(c.ENROLLMENT_TOKEN !== undefined && c.CONTROL_PLANE_URL !== undefined
      ? { enrollment: { token: c.ENROLLMENT_TOKEN, controlPlaneUrl: c.CONTROL_PLANE_URL } }
      : {}),
    taskEnv: Object.fromEntries(
      TASK_ENV_PASSTHROUGH.flatMap((name) => {
        const value = env[name];
        return value === undefined ? [] : [[name, value]];
      }),
    ),
  };
}

/**
 * The agent's configuration: enrolled when there are stored credentials, else development mode.
 * Enrolled, NODE_ID, ORG_ID and TOPOLOGY_PREFIX are not needed; set, they must agree with the
 * credentials file (a mismatch is a mistake worth stopping for, not something to guess about).
 * LABELS adds labels of this host to the enrollment's; a key in both must have the same value.
 */
export function buildConfig(
  settings: AgentSettings,
  credentials: StoredCredentials | undefined,
): AgentConfig {
  const c = settings.env;
  const identity = credentials ? enrolledIdentity(settings, credentials) : developmentIdentity(c);
  return {
    identity: identity.identity,
    amqpUrl: identity.amqpUrl,
    nodeId: identity.nodeId,
    orgId: identity.orgId,
    agentId: c.AGENT_ID ?? `${identity.nodeId}-${settings.host.hostname}-${settings.host.pid}`.slice(0, 200),
    maxConcurrency: c.MAX_CONCURRENCY,
    labels: identity.labels,
    topologyPrefix: identity.topologyPrefix,
    heartbeatIntervalMs: c.HEARTBEAT_INTERVAL_MS,
    outputMaxBytes: c.OUTPUT_MAX_BYTES,
    shutdownGraceSeconds: c.SHUTDOWN_GRACE_SECONDS,
    logFlushMs: c.LOG_FLUSH_MS,
    logBufferBytes: c.LOG_BUFFER_BYTES,
    dataDir: settings.dataDir,
    spoolMaxBytes: c.SPOOL_MAX_BYTES,
    logLevel: c.LOG_LEVEL,
    taskEnv: settings.taskEnv,
    servers: serversConfig(settings),
  };
}

function serversConfig(settings: AgentSettings): ServersConfig {
  const c = settings.env;
  const cwd = settings.host.cwd ?? process.cwd();
  return {
    root: resolve(cwd, c.AGENT_SERVERS_ROOT ?? join(settings.dataDir, 'servers')),
    backupsDir: resolve(cwd, c.AGENT_BACKUPS_DIR ?? join(settings.dataDir, 'backups')),
    stateDir: join(settings.dataDir, 'server-state'),
    logMaxBytes: c.SERVER_LOG_MAX_BYTES,
    transferMaxBytes: c.TRANSFER_MAX_BYTES,
    extractMaxBytes: c.EXTRACT_MAX_BYTES,
    extractMaxEntries: c.EXTRACT_MAX_ENTRIES,
  };
}

/** `readSettings` then `buildConfig` with the credentials file, if there is one. */
export function loadConfig(
  env: Record<string, string | undefined>,
  host: HostIdentity = currentHost(),
  readCredentials: (path: string) => StoredCredentials | undefined = readCredentialsFile,
): AgentConfig {
  const settings = readSettings(env, host);
  return buildConfig(settings, readCredentials(settings.credentialsFile));
}

interface ResolvedIdentity {
  identity: AgentIdentity;
  amqpUrl: string;
  nodeId: string;
  orgId: string;
  labels: Record<string, string>;
  topologyPrefix: string;
}

function developmentIdentity(c: AgentEnv): ResolvedIdentity {
  const missing = (['NODE_ID', 'ORG_ID'] as const).filter((name) => c[name] === undefined);
  if (c.NODE_ID === undefined || c.ORG_ID === undefined) {
    throw new ConfigError(
      `invalid agent configuration: ${missing.map((name) => `${name}: required`).join('; ')} ` +
        '(or enroll the agent: ENROLLMENT_TOKEN and CONTROL_PLANE_URL, or npm run agent:enroll)',
    );
  }
  return {
    identity: { mode: 'development' },
    amqpUrl: c.AMQP_URL,
    nodeId: c.NODE_ID,
    orgId: c.ORG_ID,
    labels: c.LABELS ?? {},
    topologyPrefix: c.TOPOLOGY_PREFIX ?? DEFAULT_TOPOLOGY_PREFIX,
  };
}

function enrolledIdentity(settings: AgentSettings, stored: StoredCredentials): ResolvedIdentity {
  const c = settings.env;
  const disagreements = [
    c.NODE_ID !== undefined && c.NODE_ID !== stored.nodeId
      ? `NODE_ID "${c.NODE_ID}" is not "${stored.nodeId}"`
      : '',
    c.ORG_ID !== undefined && c.ORG_ID !== stored.orgId
      ? `ORG_ID "${c.ORG_ID}" is not "${stored.orgId}"`
      : '',
    c.TOPOLOGY_PREFIX !== undefined && c.TOPOLOGY_PREFIX !== stored.topologyPrefix
      ? `TOPOLOGY_PREFIX "${c.TOPOLOGY_PREFIX}" is not "${stored.topologyPrefix}"`
      : '',
    ...Object.entries(c.LABELS ?? {}).map(([key, value]) =>
      Object.hasOwn(stored.labels, key) && stored.labels[key] !== value
        ? `LABELS ${key}=${value} is not the enrollment's ${key}=${stored.labels[key]}`
        : '',
    ),
  ].filter(Boolean);
  if (disagreements.length > 0) {
    throw new ConfigError(
      `the environment disagrees with the credentials file ${settings.credentialsFile} (the enrollment decides): ` +
        `${disagreements.join('; ')}; unset them or enroll again`,
    );
  }
  if (!isValidNodeId(stored.nodeId)) {
    throw new ConfigError(`the credentials file ${settings.credentialsFile} names an unusable node id`);
  }
  const url = new URL(c.AMQP_URL);
  url.username = encodeURIComponent(stored.broker.username);
  url.password = encodeURIComponent(stored.broker.password);
  return {
    identity: {
      mode: 'enrolled',
      credentialsFile: settings.credentialsFile,
      brokerUsername: stored.broker.username,
      // Where the control plane is may change (CONTROL_PLANE_URL); who the node is may not.
      controlPlaneUrl: c.CONTROL_PLANE_URL ?? stored.controlPlaneUrl,
      signingKeys: stored.signingKeys,
    },
    amqpUrl: url.toString(),
    nodeId: stored.nodeId,
    orgId: stored.orgId,
    labels: { ...c.LABELS, ...stored.labels },
    topologyPrefix: stored.topologyPrefix,
  };
}
