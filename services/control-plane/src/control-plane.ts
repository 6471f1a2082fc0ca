// First on purpose: @hono/zod-openapi adds `.openapi()` to zod, and a zod v4 schema gets its
// methods when it is built, so the contract schemas must be built after this import.
import '@hono/zod-openapi';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { topology as buildTopology } from '@meridian/contracts/topology';
import type { AppDeps } from './app/app-deps.js';
import { loadCommandKeyring, type CommandKeyring } from './security/command-keyring.js';
import { systemClock } from './app/clock.js';
import { dispatchPendingTasks } from './app/dispatch-pending-tasks.js';
import { expireOverdueExecutions } from './app/expire-overdue-executions.js';
import { purgeExpiredRecords } from './app/purge-expired-records.js';
import { readExecutionLog } from './app/read-execution-log.js';
import { recordReceivedMessages } from './app/record-agent-messages.js';
import type { Received } from './app/resolve-senders.js';
import { CONTROL_PLANE } from './domain/sender-decision.js';
import { recordDeadLetter } from './app/dead-letters/record-dead-letter.js';
import { appSettingsFrom } from './app-settings.js';
import type { Config } from './config.js';
import { createAuthenticator } from './http/auth.js';
import { createApp } from './http/create-app.js';
import { storeReceivedLogChunks } from './logs/store/store-log-chunks.js';
import { LiveLogSubscriptions } from './logs/stream/live-subscriptions.js';
import { createLogStreamServer } from './logs/stream/log-stream-server.js';
import { logStreamSettingsFrom } from './logs/stream/log-stream-settings.js';
import { startAgentEventsConsumer } from './messaging/agent-events.consumer.js';
import { createBrokerConnection } from './messaging/broker-connection.js';
import { createBrokerManagement } from './messaging/broker-management.js';
import { controlPlaneDeclarations } from './messaging/broker-topology.js';
import { ConsumerStates } from './messaging/consumer-states.js';
import { createDeadLetterPublisher } from './messaging/dead-letter.js';
import { startDeadLetterConsumers } from './messaging/dead-letters.consumer.js';
import { startLogsConsumer } from './messaging/logs.consumer.js';
import { reportsForReturnedCommands } from './messaging/returned-commands.js';
import { startOutboxRelay } from './messaging/start-outbox-relay.js';
import { createDataSource } from './persistence/data-source.js';
import { runMigrations } from './persistence/migrate.js';
import { NotificationListener } from './persistence/notification-listener.js';
import { BATCH_WAKEUP_CHANNEL } from './persistence/batch.writes.js';
import { DISPATCH_CHANNEL, OUTBOX_CHANNEL } from './persistence/outbox.writes.js';
import { createBatchWorker } from './scheduler/batch-worker.js';
import { createCredentialsSync } from './scheduler/credentials-sync.js';
import { createLostNodeSweep, isCaughtUp } from './scheduler/lost-node-sweep.js';
import { readyMessages } from './messaging/queue-backlog.js';
import { createQueuedRunSweep } from './scheduler/queued-run-sweep.js';
import { createScheduleLoops } from './scheduler/schedule-loops.js';
import { WorkLoop } from './scheduler/work-loop.js';

export interface RunningControlPlane {
  port: number;
  stop(): Promise<void>;
}

/** The configured signing keys; in development, a generated one when none is configured. */
function loadKeyring(config: Config, logger: Logger): CommandKeyring {
  const keyring = loadCommandKeyring({
    keysJson: config.COMMAND_SIGNING_KEYS,
    keysFile: config.COMMAND_SIGNING_KEYS_FILE,
    signingKeyId: config.COMMAND_SIGNING_KEY_ID,
  });
  if (keyring.ephemeral) {
    logger.warn(
      { keyId: keyring.signing.keyId },
      'no COMMAND_SIGNING_KEYS: commands are signed with a key generated at start-up (development only)',
    );
  }
  return keyring;
}

/** The composition root: builds every part from the config, starts them, and stops them in order. */
export async function startControlPlane(config: Config, logger: Logger): Promise<RunningControlPlane> {
  if (config.MIGRATE_ON_START) {
    const applied = await runMigrations(config.DATABASE_URL);
    logger.info({ applied }, 'migrations applied');
  }
  const dataSource = createDataSource({ url: config.DATABASE_URL, poolSize: config.DB_POOL_SIZE });
  await dataSource.initialize();
  const topology = buildTopology(config.TOPOLOGY_PREFIX);
  const deps: AppDeps = {
    dataSource,
    clock: systemClock,
    random: Math.random,
    topology,
    logger,
    keyring: loadKeyring(config, logger),
    ...appSettingsFrom(config),
    brokerManagement: config.BROKER_MANAGEMENT_URL
      ? createBrokerManagement({ url: config.BROKER_MANAGEMENT_URL, vhost: config.BROKER_VHOST })
      : undefined,
  };
  if (!deps.brokerManagement) logger.warn('no BROKER_MANAGEMENT_URL: agent enrollment answers 503');

  const connection = createBrokerConnection(config.AMQP_URL, logger);
  const declarations = controlPlaneDeclarations(topology);
  // Sends commands (the outbox), on a channel of its own. One attempt per send: a failed publish
  // leaves its row unsent, and the relay retries it with backoff. It declares only the exchanges:
  // each consumer declares its queue, the dead-letter publisher the dead-letter queues, so that no
  // queue's declaration (a PRECONDITION_FAILED after an argument change) can stop commands.
  const publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 1,
    exchanges: declarations.exchanges,
  });

  // Dead letters go out on a channel of their own, never on the one that sends commands.
  const deadLetterPublisher = createDeadLetterPublisher(connection, topology);

  const record = (received: Received<AgentMessage>[]) => recordReceivedMessages(deps, received);
  const relay = startOutboxRelay({
    dataSource,
    connection,
    publisher,
    logger,
    batchSize: config.OUTBOX_BATCH_SIZE,
    concurrency: config.OUTBOX_RELAY_CONCURRENCY,
    intervalMs: config.POLL_INTERVAL_MS,
    publishTimeoutMs: config.OUTBOX_PUBLISH_TIMEOUT_MS,
    random: Math.random,
    commandSigning: {
      key: deps.keyring.signing,
      ttlSeconds: deps.security.commandTtlSeconds,
      now: () => systemClock.now(),
    },
    onReturned: async (commands) => {
      const reports = reportsForReturnedCommands(commands, systemClock.now());
      if (reports.length > 0) await record(reports.map((message) => ({ message, sender: CONTROL_PLANE })));
    },
  });
  const dispatcher = new WorkLoop({
    name: 'dispatcher',
    batchSize: config.DISPATCH_BATCH_SIZE,
    intervalMs: config.POLL_INTERVAL_MS,
    logger,
    pass: () => dispatchPendingTasks(deps, config.DISPATCH_BATCH_SIZE),
  });
  const queuedRunSweep = createQueuedRunSweep(deps, config.POLL_INTERVAL_MS);
  // Reports and heartbeats still queued may be the very ones a silence verdict would miss.
  const agentEventsCaughtUp = async () =>
    isCaughtUp(await readyMessages(connection, topology.agentEventsQueue), config.CONSUMER_PREFETCH);
  const deadlineSweep = new WorkLoop({
    name: 'deadline-sweep',
    batchSize: 100,
    intervalMs: 5000,
    logger,
    pass: async () => {
      if (await agentEventsCaughtUp()) return expireOverdueExecutions(deps, 100);
      logger.info('deadline sweep postponed: agent events are queued unread');
      return 0;
    },
  });
  // Heartbeats reach this replica only while its agent-events consumer consumes and applies them
  // (called from the sweep's passes, which start after the consumer below exists), and have all
  // been read only when the queue is not backed up.
  const lostNodeSweep = createLostNodeSweep(
    deps,
    async () =>
      connection.ready &&
      consumers.isConsuming('agent-events') &&
      agentEvents.waitingForDatabase() === 0 &&
      (await agentEventsCaughtUp()),
  );
  const retention = new WorkLoop({
    name: 'retention',
    batchSize: 1000,
    intervalMs: 60_000,
    logger,
    pass: () => purgeExpiredRecords(deps, config.CLEANUP_RETENTION_DAYS, 1000),
  });
  const scheduleLoops = createScheduleLoops(deps, config.POLL_INTERVAL_MS);
  const batchWorker = createBatchWorker(deps);
  // An execution's end frees a slot and may leave its task idle with a run queued behind.
  const wakeDispatch = () => {
    dispatcher.wake();
    queuedRunSweep.wake();
  };
  const listener = new NotificationListener(
    config.DATABASE_URL,
    {
      [OUTBOX_CHANNEL]: () => relay.wake(),
      [DISPATCH_CHANNEL]: wakeDispatch,
      [BATCH_WAKEUP_CHANNEL]: () => batchWorker.wake(),
    },
    logger,
  );
  await listener.start();

  const consumers = new ConsumerStates(logger);
  const agentEvents = startAgentEventsConsumer({
    connection,
    publisher: deadLetterPublisher,
    topology,
    prefetch: config.CONSUMER_PREFETCH,
    batchSize: config.CONSUMER_BATCH_SIZE,
    logger,
    keyring: deps.keyring,
    record,
  });
  const logs = config.CONSUME_LOGS
    ? startLogsConsumer({
        connection,
        publisher: deadLetterPublisher,
        topology,
        prefetch: config.LOG_CONSUMER_PREFETCH,
        batchSize: config.LOG_CONSUMER_BATCH_SIZE,
        logger,
        keyring: deps.keyring,
        store: (chunks) => storeReceivedLogChunks(deps, chunks, { maxBytes: config.EXECUTION_LOG_MAX_BYTES }),
      })
    : undefined;
  consumers.track('agent-events', agentEvents.consumer);
  if (logs) consumers.track('logs', logs.consumer);
  // Live log lines from every replica, for this process's WebSocket clients: whether or not this
  // replica consumes the logs queue (CONSUME_LOGS), its clients see every line.
  const liveLogs = new LiveLogSubscriptions({ connection, topology, logger });
  consumers.track('live-logs', liveLogs.brokerConsumer);
  const deadLetters = startDeadLetterConsumers({
    connection,
    topology,
    logger,
    bodyMaxBytes: config.DEAD_LETTER_BODY_MAX_BYTES,
    store: (record) => recordDeadLetter(deps, record),
    verifyKeys: deps.keyring.verifyKeys,
  });
  deadLetters.consumers.forEach((consumer, index) =>
    consumers.track(`dead-letters-${index === 0 ? 'agent-events' : 'logs'}`, consumer),
  );
  dispatcher.start();
  queuedRunSweep.start();
  deadlineSweep.start();
  lostNodeSweep.start();
  retention.start();
  scheduleLoops.forEach((loop) => loop.start());
  batchWorker.start();
  const credentialsSync = createCredentialsSync(deps);
  credentialsSync.start();

  let shuttingDown = false;
  const auth = createAuthenticator({
    secret: config.JWKS_URL ? undefined : config.JWT_SECRET,
    jwksUrl: config.JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  const app = createApp({
    app: deps,
    auth,
    readiness: {
      postgres: async () => {
        await dataSource.query('SELECT 1');
      },
      rabbitmq: () =>
        connection.ready ? Promise.resolve() : Promise.reject(new Error('broker not connected')),
      ...consumers.readinessChecks(),
    },
    isShuttingDown: () => shuttingDown,
  });
  const logStreams = createLogStreamServer({
    app: deps,
    auth,
    live: liveLogs,
    readLog: readExecutionLog,
    settings: logStreamSettingsFrom(config),
  });
  const server = await listen(app.fetch, config.HOST, config.PORT);
  logStreams.attach(server);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, prefix: topology.prefix }, 'control plane started');

  return {
    port,
    async stop() {
      shuttingDown = true;
      await logStreams.close(); // 1001 to every log stream: clients reconnect elsewhere with `after`
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agentEvents.close(); // stops waiting for an absent database: what waits is requeued
      await logs?.close();
      await deadLetters.close();
      await Promise.all([
        dispatcher.stop(false),
        queuedRunSweep.stop(false),
        deadlineSweep.stop(false),
        retention.stop(false),
        credentialsSync.stop(false),
        batchWorker.stop(false),
        ...scheduleLoops.map((loop) => loop.stop(false)),
      ]);
      await lostNodeSweep.stop(false);
      await relay.stop(true);
      await listener.stop();
      await liveLogs.close();
      await publisher.close();
      await deadLetterPublisher.close();
      await connection.close();
      await dataSource.destroy();
      logger.info('control plane stopped');
    },
  };
}

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolve(server));
    server.once('error', reject);
  });
}
