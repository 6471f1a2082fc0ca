import { connect as connectAmqp } from 'amqplib';
import pg from 'pg';

/**
 * Finds a PostgreSQL server and a RabbitMQ broker for tests and the developer stack, in this order
 * for each of the two independently: the `DATABASE_URL` / `AMQP_URL` environment variables, the
 * local defaults on 127.0.0.1 when they answer, then throwaway testcontainers when a Docker engine
 * answers. When none works it throws one error that says what to install or which variables to set.
 */
export type InfrastructureSource = 'env' | 'local' | 'testcontainers';

export interface Infrastructure {
  /** Server-level URL (points at a maintenance database such as `postgres`); see `withDatabase`. */
  databaseUrl: string;
  amqpUrl: string;
  /** The broker's management API, when this call started the broker (the image has the plugin). */
  managementUrl?: string;
  /** The least "already there" source used: testcontainers over local over env. */
  source: InfrastructureSource;
  sources: { database: InfrastructureSource; broker: InfrastructureSource };
  /** Stops what this call started (containers); the env and local services are left alone. */
  stop(): Promise<void>;
}

export interface ResolveInfrastructureOptions {
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  localDatabaseUrl?: string;
  localAmqpUrl?: string;
  /** How long a probe of one service may take before it counts as absent. */
  probeTimeoutMs?: number;
  /** Set to false to never start containers (fail instead). */
  allowTestcontainers?: boolean;
  log?: (message: string) => void;
}

export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const POSTGRES_IMAGE = 'postgres:16';
const RABBITMQ_IMAGE = 'rabbitmq:3.13-management';

export async function resolveInfrastructure(
  options: ResolveInfrastructureOptions = {},
): Promise<Infrastructure> {
  const env = options.env ?? process.env;
  const timeoutMs = options.probeTimeoutMs ?? 2_000;
  const log = options.log ?? (() => undefined);
  const localDatabaseUrl = options.localDatabaseUrl ?? LOCAL_DATABASE_URL;
  const localAmqpUrl = options.localAmqpUrl ?? LOCAL_AMQP_URL;

  const [database, broker] = await Promise.all([
    findService('DATABASE_URL', env.DATABASE_URL, localDatabaseUrl, (url) => probePostgres(url, timeoutMs)),
    findService('AMQP_URL', env.AMQP_URL, localAmqpUrl, (url) => probeAmqp(url, timeoutMs)),
  ]);

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    const pending = stops.splice(0).reverse();
    for (const stopOne of pending) await stopOne();
  };

  let databaseUrl = database.url;
  let amqpUrl = broker.url;
  let managementUrl: string | undefined;
  if (databaseUrl === undefined || amqpUrl === undefined) {
    const missing: string[] = [];
    if (databaseUrl === undefined) missing.push('PostgreSQL');
    if (amqpUrl === undefined) missing.push('RabbitMQ');
    const dockerProblem =
      options.allowTestcontainers === false ? 'disabled by the caller' : await probeDocker(timeoutMs * 5);
    if (dockerProblem !== undefined) {
      throw new Error(missingInfrastructureMessage(missing, [database.tried, broker.tried], dockerProblem));
    }
    try {
      if (databaseUrl === undefined) {
        log(`starting ${POSTGRES_IMAGE} with testcontainers`);
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
          .withUsername('postgres')
          .withPassword('postgres')
          .withDatabase('postgres')
          .start();
        stops.push(async () => void (await container.stop()));
        databaseUrl = container.getConnectionUri();
      }
      if (amqpUrl === undefined) {
        log(`starting ${RABBITMQ_IMAGE} with testcontainers`);
        const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
        const container = await new RabbitMQContainer(RABBITMQ_IMAGE).start();
        stops.push(async () => void (await container.stop()));
        amqpUrl = container.getAmqpUrl();
        managementUrl = `http://guest:guest@${container.getHost()}:${container.getMappedPort(15672)}`;
      }
    } catch (error) {
      await stop();
      throw error;
    }
  }

  const sources = {
    database: database.source ?? 'testcontainers',
    broker: broker.source ?? 'testcontainers',
  } as const;
  log(`PostgreSQL from ${sources.database}: ${redactUrl(databaseUrl)}`);
  log(`RabbitMQ from ${sources.broker}: ${redactUrl(amqpUrl)}`);
  return {
    databaseUrl,
    amqpUrl,
    ...(managementUrl === undefined ? {} : { managementUrl }),
    source: leastPresent(sources.database, sources.broker),
    sources,
    stop,
  };
}

/** The same server URL pointing at another database. */
export function withDatabase(serverUrl: string, dbName: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(dbName)}`;
  return url.toString();
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid URL>';
  }
}

interface FoundService {
  url: string | undefined;
  source: InfrastructureSource | undefined;
  tried: string[];
}

async function findService(
  variable: string,
  fromEnv: string | undefined,
  localUrl: string,
  probe: (url: string) => Promise<void>,
): Promise<FoundService> {
  if (fromEnv) {
    try {
      await probe(fromEnv);
    } catch (error) {
      // The variable was set on purpose: falling back to something else would hide the mistake.
      throw new Error(
        `${variable}=${redactUrl(fromEnv)} is set but does not answer (${describe(error)}); start that server, fix the URL, or unset ${variable} to use the local default or testcontainers`,
      );
    }
    return { url: fromEnv, source: 'env', tried: [] };
  }
  try {
    await probe(localUrl);
    return { url: localUrl, source: 'local', tried: [] };
  } catch (error) {
    return { url: undefined, source: undefined, tried: [`${redactUrl(localUrl)}: ${describe(error)}`] };
  }
}

export async function probePostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function probeAmqp(url: string, timeoutMs: number): Promise<void> {
  const connecting = connectAmqp(url, { timeout: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no AMQP handshake within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const connection = await Promise.race([connecting, deadline]);
    await connection.close();
  } catch (error) {
    // A handshake that completes after the deadline must not leave a socket open.
    connecting.then((late) => late.close()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Why no Docker engine is usable, or undefined when one answers. */
async function probeDocker(timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([getContainerRuntimeClient(), deadline]);
    return undefined;
  } catch (error) {
    return describe(error);
  } finally {
    clearTimeout(timer);
  }
}

function missingInfrastructureMessage(missing: string[], tried: string[][], docker: string): string {
  return [
    `Meridian needs ${missing.join(' and ')} and could not find ${missing.length > 1 ? 'them' : 'it'}.`,
    'Tried:',
    ...tried.flat().map((line) => `  - ${line}`),
    `  - Docker engine for testcontainers: ${docker}`,
    'Fix it with one of:',
    '  - point at running servers: DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/postgres and',
    '    AMQP_URL=amqp://USER:PASSWORD@HOST:5672 (each variable is used on its own);',
    '  - run them locally: PostgreSQL 16 on 127.0.0.1:5432 with a `postgres` user (Debian/Ubuntu:',
    '    `sudo apt-get install postgresql`) and RabbitMQ 3.13 on 127.0.0.1:5672 with guest/guest',
    '    (`sudo apt-get install rabbitmq-server`);',
    `  - start a Docker engine, and ${POSTGRES_IMAGE} / ${RABBITMQ_IMAGE} are started for you.`,
  ].join('\n');
}

function leastPresent(a: InfrastructureSource, b: InfrastructureSource): InfrastructureSource {
  const order: InfrastructureSource[] = ['env', 'local', 'testcontainers'];
  return order[Math.max(order.indexOf(a), order.indexOf(b))] ?? 'testcontainers';
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describe).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
