// First on purpose: @hono/zod-openapi adds `.openapi()` to zod, and a zod v4 schema gets its
// methods when it is built, so the contract schemas must be built after this import.
import '@hono/zod-openapi';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import { Connection, type ReturnedMessage } from 'rabbitmq-client';
import { topology as buildTopology } from '@meridian/contracts/topology';
import type { AppDeps } from './app/app-deps.js';
import { systemClock } from './app/clock.js';
import { dispatchPendingTasks } from './app/dispatch-pending-tasks.js';
import { expireOverdueExecutions } from './app/expire-overdue-executions.js';
import { purgeExpiredRecords } from './app/purge-expired-records.js';
import { readExecutionLog } from './app/read-execution-log.js';
import { recordAgentMessages } from './app/record-agent-messages.js';
import { recordDeadLetter } from './app/dead-letters/record-dead-letter.js';
import { appSettingsFrom } from './app-settings.js';
import type { Config } from './config.js';
import { createAuthenticator } from './http/auth.js';
import { createApp } from './http/create-app.js';
import { storeLogChunks } from './logs/store/store-log-chunks.js';
import { LiveLogSubscriptions } from './logs/stream/live-subscriptions.js';
import { createLogStreamServer } from './logs/stream/log-stream-server.js';
import { logStreamSettingsFrom } from './logs/stream/log-stream-settings.js';
import { startAgentEventsConsumer } from './messaging/agent-events.consumer.js';
import { controlPlaneDeclarations } from './messaging/broker-topology.js';
import { startDeadLetterConsumers } from './messaging/dead-letters.consumer.js';
import { startLogsConsumer } from './messaging/logs.consumer.js';
import { relayOutboxBatch, type ReturnedCommand } from './messaging/outbox-relay.js';
import { isCommandType, reportsForReturnedCommands } from './messaging/returned-commands.js';
import { createDataSource } from './persistence/data-source.js';
import { runMigrations } from './persistence/migrate.js';
import { NotificationListener } from './persistence/notification-listener.js';
import { DISPATCH_CHANNEL, OUTBOX_CHANNEL } from './persistence/outbox.writes.js';
import { WorkLoop } from './scheduler/work-loop.js';

export interface RunningControlPlane {
  port: number;
  stop(): Promise<void>;
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
    ...appSettingsFrom(config),
  };

  // noDelay: commands are small frames; with Nagle's algorithm on, one waits for the broker's
  // delayed ACK (~40 ms) whenever another is in flight.
  const connection = new Connection({
    url: config.AMQP_URL,
    connectionName: 'meridian-control-plane',
    noDelay: true,
  });
  connection.on('error', (error) => logger.error({ err: error }, 'broker connection error'));
  connection.on('connection', () => logger.info('broker connected'));
  const declarations = controlPlaneDeclarations(topology);
  const returned = new Map<string, ReturnedCommand>();
  const publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 2,
    exchanges: declarations.exchanges,
    queues: [
      declarations.agentEventsQueue,
      declarations.deadLetterQueue,
      declarations.logsQueue,
      declarations.logsDeadLetterQueue,
    ],
    queueBindings: declarations.queueBindings,
  });

  // rabbitmq-client reports returned (mandatory, unroutable) messages as an event; its
  // `onReturn` option is not wired to anything.
  publisher.on('basic.return', (message: ReturnedMessage) => {
    // A LogLinesStored comes back whenever no replica watches its execution: nothing to do.
    if (!isCommandType(message.type)) return;
    const messageId = message.messageId ?? '';
    logger.warn(
      { messageId, routingKey: message.routingKey, type: message.type },
      'broker returned a command',
    );
    returned.set(messageId, {
      messageId,
      type: message.type ?? '',
      routingKey: message.routingKey,
      body: message.body as ReturnedCommand['body'],
    });
  });

  const record = (messages: Parameters<typeof recordAgentMessages>[1]) => recordAgentMessages(deps, messages);
  const relay = new WorkLoop({
    name: 'outbox-relay',
    batchSize: config.OUTBOX_BATCH_SIZE,
    intervalMs: config.POLL_INTERVAL_MS,
    // Publisher confirms of persistent messages wait for the broker's disk (tens of ms under load);
    // passes claim rows with SKIP LOCKED, so several can wait at once.
    concurrency: config.OUTBOX_RELAY_CONCURRENCY,
    logger,
    pass: async () => {
      const result = await relayOutboxBatch(
        dataSource,
        publisher,
        returned,
        config.OUTBOX_BATCH_SIZE,
        logger,
      );
      const reports = reportsForReturnedCommands(result.returned, systemClock.now());
      if (reports.length > 0) await record(reports);
      return result.published;
    },
  });
  const dispatcher = new WorkLoop({
    name: 'dispatcher',
    batchSize: config.DISPATCH_BATCH_SIZE,
    intervalMs: config.POLL_INTERVAL_MS,
    logger,
    pass: () => dispatchPendingTasks(deps, config.DISPATCH_BATCH_SIZE),
  });
  const deadlineSweep = new WorkLoop({
    name: 'deadline-sweep',
    batchSize: 100,
    intervalMs: 5000,
    logger,
    pass: () => expireOverdueExecutions(deps, 100),
  });
  const retention = new WorkLoop({
    name: 'retention',
    batchSize: 1000,
    intervalMs: 60_000,
    logger,
    pass: () => purgeExpiredRecords(deps, config.CLEANUP_RETENTION_DAYS, 1000),
  });
  const listener = new NotificationListener(
    config.DATABASE_URL,
    { [OUTBOX_CHANNEL]: () => relay.wake(), [DISPATCH_CHANNEL]: () => dispatcher.wake() },
    logger,
  );
  await listener.start();

  const agentEvents = startAgentEventsConsumer({
    connection,
    publisher,
    topology,
    prefetch: config.CONSUMER_PREFETCH,
    batchSize: config.CONSUMER_BATCH_SIZE,
    logger,
    record,
  });
  const logs = config.CONSUME_LOGS
    ? startLogsConsumer({
        connection,
        publisher,
        topology,
        prefetch: config.LOG_CONSUMER_PREFETCH,
        batchSize: config.LOG_CONSUMER_BATCH_SIZE,
        logger,
        store: (chunks) => storeLogChunks(deps, chunks, { maxBytes: config.EXECUTION_LOG_MAX_BYTES }),
      })
    : undefined;
  const deadLetters = startDeadLetterConsumers({
    connection,
    topology,
    logger,
    bodyMaxBytes: config.DEAD_LETTER_BODY_MAX_BYTES,
    store: (record) => recordDeadLetter(deps, record),
  });
  relay.start();
  dispatcher.start();
  deadlineSweep.start();
  retention.start();

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
    },
    isShuttingDown: () => shuttingDown,
  });
  // Live log lines from every replica, for this process's WebSocket clients: whether or not this
  // replica consumes the logs queue (CONSUME_LOGS), its clients see every line.
  const liveLogs = new LiveLogSubscriptions({ connection, topology, logger });
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
      await agentEvents.consumer.close();
      await agentEvents.drain();
      await logs?.consumer.close();
      await logs?.drain();
      await deadLetters.close();
      await Promise.all([dispatcher.stop(false), deadlineSweep.stop(false), retention.stop(false)]);
      await relay.stop(true);
      await listener.stop();
      await liveLogs.close();
      await publisher.close();
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
