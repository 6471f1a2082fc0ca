import { z } from 'zod';
import { DEFAULT_TOPOLOGY_PREFIX } from '@meridian/contracts/topology';

export const DEV_JWT_SECRET = 'dev-secret-change-me';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const secondsList = z
  .string()
  .regex(/^\d+(\s*,\s*\d+)*$/, 'a comma-separated list of whole seconds, e.g. 5,30,120')
  .transform((value) => value.split(',').map((part) => Number(part.trim())));

/** Every setting of the control plane, with the defaults of seed 004. */
const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/meridian'),
    AMQP_URL: z.string().min(1).default('amqp://guest:guest@127.0.0.1:5672'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    JWT_SECRET: z.string().min(16, 'JWT_SECRET must be at least 16 characters').optional(),
    JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    TOPOLOGY_PREFIX: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i)
      .default(DEFAULT_TOPOLOGY_PREFIX),
    DEFAULT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(300),
    MAX_RETRIES: z.coerce.number().int().min(0).default(3),
    RETRY_BACKOFF_SECONDS: secondsList.default([5, 30, 120]),
    RETRY_JITTER_RATIO: z.coerce.number().min(0).max(1).default(0.1),
    /** fixed: RETRY_BACKOFF_SECONDS ± jitter; exponential: full jitter up to min(MAX, BASE × 2^n). */
    RETRY_POLICY: z.enum(['fixed', 'exponential']).default('fixed'),
    RETRY_BASE_SECONDS: z.coerce.number().int().min(1).default(5),
    RETRY_MAX_SECONDS: z.coerce.number().int().min(1).default(120),
    /** A timed-out execution uses one of its task's retries (false: the task ends Timeout). */
    RETRY_ON_TIMEOUT: booleanFlag.default(true),
    /** A node silent this long is lost: its executions end AgentLost and their tasks are retried. */
    NODE_LOST_AFTER_SECONDS: z.coerce.number().int().min(1).default(30),
    MAX_CONCURRENT_TASKS_PER_NODE: z.coerce.number().int().min(1).default(10),
    EXECUTION_LOG_MAX_BYTES: z.coerce.number().int().min(1024).default(65_536),
    CLEANUP_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    CANCEL_GRACE_SECONDS: z.coerce.number().int().min(0).default(10),
    /** Extra time past an execution's deadline before the control plane declares it timed out. */
    TIMEOUT_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
    DB_POOL_SIZE: z.coerce.number().int().min(2).default(20),
    CONSUMER_PREFETCH: z.coerce.number().int().min(1).default(500),
    CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).default(200),
    /** false: this replica stores no log lines (another one does); it still serves and streams them. */
    CONSUME_LOGS: booleanFlag.default(true),
    /** Measured with test/bench/log-consumer-bench.ts: see docs/performance.md. */
    LOG_CONSUMER_PREFETCH: z.coerce.number().int().min(1).default(500),
    /** Log chunks stored per transaction, at most. */
    LOG_CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).default(200),
    /** Bytes of a dead letter's body kept in `dead_letters`; a longer body is cut and cannot be re-driven. */
    DEAD_LETTER_BODY_MAX_BYTES: z.coerce.number().int().min(1024).default(262_144),
    DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).default(500),
    OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).default(500),
    OUTBOX_RELAY_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
    /** A publish the broker has not confirmed by then counts as failed; its row is retried with backoff. */
    OUTBOX_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
    /** Safety-net polling of the dispatcher and outbox relay; normally they wake on NOTIFY. */
    POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    /** Log stream (WebSocket): a client with more unsent bytes than this gets no lines until it drains. */
    LOG_STREAM_MAX_BUFFERED_BYTES: z.coerce.number().int().min(16_384).default(1_048_576),
    LOG_STREAM_PING_MS: z.coerce.number().int().min(100).default(30_000),
    /** How often each stream reads its execution's row (the end, lines a lost live message carried). */
    LOG_STREAM_POLL_MS: z.coerce.number().int().min(10).default(1000),
    /** Quiet time after the end before the end frame, when the end report names no last seq. */
    LOG_STREAM_END_GRACE_MS: z.coerce.number().int().min(0).default(2000),
    /** How long a stream waits for missing lines nobody reported as a gap before announcing one. */
    LOG_STREAM_HOLE_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
    /**
     * Agents must be enrolled (their own broker user, validated sender); the shared login is refused.
     * Defaults to true when NODE_ENV=production, false otherwise.
     */
    REQUIRE_AGENT_ENROLLMENT: booleanFlag.optional(),
    /** JSON list of Ed25519 keys (`[{"keyId","privateKey"}]`) that sign commands; or a file of it. */
    COMMAND_SIGNING_KEYS: z.string().optional(),
    COMMAND_SIGNING_KEYS_FILE: z.string().optional(),
    /** Which of the keys signs (the first when unset); the others stay trusted by agents. */
    COMMAND_SIGNING_KEY_ID: z.string().optional(),
    /** A signed command is refused by the agent this long after it was published. */
    COMMAND_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    /**
     * The broker's management API, which provisions each enrolled node's broker user, e.g.
     * http://admin:secret@rabbitmq:15672. Unset: enrollment is refused (503).
     */
    BROKER_MANAGEMENT_URL: z.url().optional(),
    /** The vhost agents use (the one in AMQP_URL, `/` by default). */
    BROKER_VHOST: z.string().min(1).default('/'),
    /** Seed 000's trigger limits, shared by every replica (PostgreSQL); each bulk item counts one. */
    TRIGGER_LIMIT_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(1000),
    TRIGGER_LIMIT_PER_TASK_PER_HOUR: z.coerce.number().int().min(1).default(100),
    TRIGGER_LIMIT_PER_ORG_PER_HOUR: z.coerce.number().int().min(1).default(5000),
    TRIGGER_LIMIT_SYSTEM_PER_MINUTE: z.coerce.number().int().min(1).default(10_000),
    MIGRATE_ON_START: booleanFlag.default(false),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.JWT_SECRET !== undefined || c.JWKS_URL !== undefined, {
    message: 'production needs JWT_SECRET or JWKS_URL',
    path: ['JWT_SECRET'],
  })
  .refine(
    (c) =>
      c.NODE_ENV !== 'production' ||
      c.COMMAND_SIGNING_KEYS !== undefined ||
      c.COMMAND_SIGNING_KEYS_FILE !== undefined,
    {
      message: 'production needs COMMAND_SIGNING_KEYS or COMMAND_SIGNING_KEYS_FILE',
      path: ['COMMAND_SIGNING_KEYS'],
    },
  )
  .refine((c) => c.RETRY_MAX_SECONDS >= c.RETRY_BASE_SECONDS, {
    message: 'RETRY_MAX_SECONDS must be at least RETRY_BASE_SECONDS',
    path: ['RETRY_MAX_SECONDS'],
  });

export type Config = Omit<z.infer<typeof ConfigSchema>, 'REQUIRE_AGENT_ENROLLMENT'> & {
  jwtSecretIsDevDefault: boolean;
  REQUIRE_AGENT_ENROLLMENT: boolean;
};

export class ConfigError extends Error {}

/** Parses the environment once, at start-up; nothing else reads `process.env`. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = ConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const useDevSecret = parsed.data.JWT_SECRET === undefined && parsed.data.JWKS_URL === undefined;
  return {
    ...parsed.data,
    JWT_SECRET: useDevSecret ? DEV_JWT_SECRET : parsed.data.JWT_SECRET,
    jwtSecretIsDevDefault: useDevSecret,
    REQUIRE_AGENT_ENROLLMENT: parsed.data.REQUIRE_AGENT_ENROLLMENT ?? parsed.data.NODE_ENV === 'production',
  };
}
