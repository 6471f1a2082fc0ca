/**
 * The developer stack behind `npm start`: finds PostgreSQL and RabbitMQ (env, local, containers),
 * migrates the `meridian` database, runs the control plane and one local agent, and prints how to
 * use them. The agent is enrolled (its own broker user, signed commands) when the broker's
 * management API answers, else it runs in development mode on the shared login (scripts/local-agent.ts).
 * Ctrl-C stops everything it started and exits 0.
 */
import { createServer } from 'node:net';
import { runMigrations } from '@meridian/control-plane/persistence/migrate';
import { DEV_JWT_SECRET } from '@meridian/control-plane/config';
import { createDatabaseIfMissing } from '../test/support/database.js';
import { redactUrl, resolveInfrastructure, withDatabase } from '../test/support/infra.js';
import type { Infrastructure } from '../test/support/infra.js';
import { findBrokerManagement, type BrokerManagement } from '../test/support/find-broker-management.js';
import { startControlPlane, stopAllProcesses } from '../test/support/processes.js';
import type { ManagedProcess } from '../test/support/processes.js';
import { signToken } from '../test/support/tokens.js';
import { waitFor } from '../test/support/wait-for.js';
import { developmentModeWarning, startLocalAgent, type LocalAgent } from './local-agent.js';

const NODE_ID = 'local-node';
const ORG_ID = 'dev-org';
const USER_ID = 'dev-user';
// The developer runs the platform: they also see dead letters that name no organisation.
const PERMISSIONS = [
  'task:read',
  'task:write',
  'task:trigger',
  'task:reschedule',
  'task:read-events',
  'node:read',
  'node:admin',
  'admin:dead-letters',
  'platform:dead-letters',
  'template:admin',
];
/** Control-plane settings taken from the shell as they are (the children inherit none of them). */
const PASSED_THROUGH = [
  'REQUIRE_AGENT_ENROLLMENT',
  'COMMAND_SIGNING_KEYS',
  'COMMAND_SIGNING_KEYS_FILE',
  'COMMAND_SIGNING_KEY_ID',
];
const env = process.env;

let infrastructure: Infrastructure | undefined;
let stopping: Promise<void> | undefined;

function say(message: string): void {
  console.log(`[dev-stack] ${message}`);
}

function warn(lines: string[]): void {
  console.warn(lines.map((line) => `[dev-stack] ${line}`).join('\n'));
}

/** Stops the children (SIGTERM, then SIGKILL after their grace period), then any containers. */
function stopEverything(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    say('stopping…');
    await stopAllProcesses('SIGTERM');
    await infrastructure?.stop();
    say('stopped');
    process.exit(exitCode);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void stopEverything(0));
}

async function main(): Promise<void> {
  // DATABASE_URL may name the application database, which may not exist yet: probe the server.
  const appDatabase = databaseNameFrom(env.DATABASE_URL) ?? 'meridian';
  const serverEnv = env.DATABASE_URL
    ? { ...env, DATABASE_URL: withDatabase(env.DATABASE_URL, 'postgres') }
    : env;
  infrastructure = await resolveInfrastructure({ env: serverEnv, log: say });
  if (stopping) return;

  const databaseUrl = withDatabase(infrastructure.databaseUrl, appDatabase);
  if (await createDatabaseIfMissing(infrastructure.databaseUrl, appDatabase))
    say(`created database ${appDatabase}`);
  const applied = await runMigrations(databaseUrl);
  say(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  if (stopping) return;

  const management = await findBrokerManagement({
    amqpUrl: infrastructure.amqpUrl,
    configuredUrl: env.BROKER_MANAGEMENT_URL || infrastructure.managementUrl,
  });
  if (management.available) {
    say(`broker management API at ${redactUrl(management.url)}: the local agent will be enrolled`);
  } else if (env.REQUIRE_AGENT_ENROLLMENT === 'true') {
    throw new Error(
      `REQUIRE_AGENT_ENROLLMENT=true needs the broker's management API to enroll the local agent: ${management.reason}`,
    );
  } else {
    warn(developmentModeWarning(management.reason));
  }
  if (stopping) return;

  const port = Number(env.PORT ?? 8080);
  await assertPortFree(port);
  const jwtSecret = env.JWT_SECRET || DEV_JWT_SECRET;
  const prefix = env.TOPOLOGY_PREFIX || 'meridian';
  const logLevel = env.LOG_LEVEL || 'info';
  const controlPlane = await startControlPlane({
    databaseUrl,
    amqpUrl: infrastructure.amqpUrl,
    prefix,
    jwtSecret,
    port,
    host: env.HOST || '127.0.0.1',
    env: {
      LOG_LEVEL: logLevel,
      ...(management.available ? { BROKER_MANAGEMENT_URL: management.url } : {}),
      ...Object.fromEntries(PASSED_THROUGH.flatMap((name) => (env[name] ? [[name, env[name]]] : []))),
    },
    onOutput: printer('[control-plane]'),
  });
  watchForCrash(controlPlane);
  if (stopping) return;

  const token = await signToken({
    secret: jwtSecret,
    orgId: ORG_ID,
    sub: USER_ID,
    permissions: PERMISSIONS,
    expiresIn: '12h',
  });
  // The agent is ready when it logs 'agent started' at info level.
  const agent = await startLocalAgent({
    management,
    amqpUrl: infrastructure.amqpUrl,
    prefix,
    controlPlaneUrl: controlPlane.baseUrl,
    adminToken: token,
    databaseUrl,
    nodeId: NODE_ID,
    orgId: ORG_ID,
    capacity: 10,
    logLevel,
    onOutput: printer('[agent]'),
  });
  watchForCrash(agent.process);
  await waitFor(() => isNodeOnline(controlPlane.baseUrl, token, agent.nodeId), {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: `node ${agent.nodeId} to be online in GET /api/v1/nodes (agent heartbeat)`,
  });
  if (stopping) return;
  printWelcome({
    baseUrl: controlPlane.baseUrl,
    token,
    infra: infrastructure,
    databaseUrl,
    agent,
    management,
  });
}

async function isNodeOnline(baseUrl: string, token: string, nodeId: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/api/v1/nodes`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(2_000),
  });
  if (!response.ok)
    throw new Error(`GET /api/v1/nodes answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { items?: Array<{ id?: string; status?: string }> };
  return (body.items ?? []).some((node) => node.id === nodeId && node.status === 'online');
}

interface Welcome {
  baseUrl: string;
  token: string;
  infra: Infrastructure;
  databaseUrl: string;
  agent: LocalAgent;
  management: BrokerManagement;
}

function printWelcome({ baseUrl, token, infra, databaseUrl, agent, management }: Welcome): void {
  const task = JSON.stringify({
    type: 'Command',
    name: 'hello',
    targetType: 'Node',
    targetId: agent.nodeId,
    payload: { command: ['echo', 'hello'] },
  });
  const lines = [
    '',
    'Meridian Tasks is running.',
    `  API      ${baseUrl}/api/v1`,
    `  Docs     ${baseUrl}/docs   (OpenAPI: ${baseUrl}/openapi.json)`,
    `  Agent    ${agent.nodeId} in org ${ORG_ID}, capacity 10, ${agent.summary}`,
    `  Postgres ${redactUrl(databaseUrl)} (${infra.sources.database})`,
    `  RabbitMQ ${redactUrl(infra.amqpUrl)} (${infra.sources.broker})`,
    '',
    `A token for ${USER_ID} in ${ORG_ID} with ${PERMISSIONS.join(', ')} (valid 12 h; more with \`npm run token\`):`,
    `  export TOKEN=${token}`,
    '',
    'Create a task that runs `echo hello` on the local agent:',
    `  TASK_ID=$(curl -s -X POST ${baseUrl}/api/v1/tasks -H "Authorization: Bearer $TOKEN" \\`,
    `    -H 'Content-Type: application/json' -d '${task}' \\`,
    `    | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).id'); echo $TASK_ID`,
    'Fetch it:',
    `  curl -s ${baseUrl}/api/v1/tasks/$TASK_ID -H "Authorization: Bearer $TOKEN"`,
    'Run it again, then read its history:',
    `  curl -s -X POST ${baseUrl}/api/v1/tasks/$TASK_ID/trigger -H "Authorization: Bearer $TOKEN"`,
    `  curl -s "${baseUrl}/api/v1/tasks/$TASK_ID/events?types=TaskTriggered,TaskCompleted" -H "Authorization: Bearer $TOKEN"`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
  // Last, where it is seen: the stack is not safe to expose.
  if (!management.available) warn(developmentModeWarning(management.reason));
}

function watchForCrash(child: ManagedProcess): void {
  void child.exited.then((exit) => {
    if (stopping) return;
    say(`${child.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal}); stopping the stack`);
    void stopEverything(1);
  });
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new Error(`port ${port} is in use: stop what listens there or start with PORT=${port + 1} npm start`),
      ),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

function databaseNameFrom(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  return name && name !== 'postgres' ? name : undefined;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** Prints a child's lines with its name in front; pino JSON lines become `LEVEL msg {fields}`. */
function printer(label: string): (line: string, stream: 'stdout' | 'stderr') => void {
  return (line, stream) => {
    const out = stream === 'stderr' ? process.stderr : process.stdout;
    out.write(`${label} ${formatLogLine(line)}\n`);
  };
}

function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = typeof entry.level === 'number' ? (LEVELS[entry.level] ?? String(entry.level)) : 'INFO';
    const fields = Object.fromEntries(Object.entries(entry).filter(([key]) => !HIDDEN_FIELDS.has(key)));
    const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    return `${level.padEnd(5)} ${typeof entry.msg === 'string' ? entry.msg : ''}${rest}`;
  } catch {
    return line;
  }
}

main().catch((error: unknown) => {
  if (stopping) return;
  const message = error instanceof Error ? error.message : String(error);
  // A child's output was already printed line by line: leave out the copy in the error.
  console.error(`[dev-stack] ${message.split('\n--- ')[0]}`);
  void stopEverything(1);
});
