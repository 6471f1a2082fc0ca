import type { Logger } from 'pino';
import agentPackage from '../package.json' with { type: 'json' };
import { createAmqpLogSender } from './broker/amqp-log-sender.js';
import { createAmqpReportSender } from './broker/amqp-report-sender.js';
import { createCommandConsumer } from './broker/command-consumer.js';
import { createConnection } from './broker/connection.js';
import { ReportPublisher } from './broker/report-publisher.js';
import { createCancelTask } from './commands/cancel-task.js';
import { createExecuteTask } from './commands/execute-task.js';
import type { AgentConfig } from './config.js';
import { ExecutionRunner } from './execution-runner.js';
import { ExpiringMap } from './expiring-map.js';
import { createCommandHandler } from './handlers/command.js';
import { echoHandler } from './handlers/echo.js';
import { HandlerRegistry, type TaskHandler } from './handlers/handler.js';
import { healthCheckHandler } from './handlers/health-check.js';
import { Heartbeat } from './heartbeat.js';
import { agentMode } from './identity/agent-mode.js';
import { LogShipper } from './logs/log-shipper.js';
import { RunningExecutions } from './running-executions.js';
import { shutDownAgent } from './shutdown.js';
import { openDataDir } from './state/data-dir.js';
import { DiskSpool } from './state/disk-spool.js';
import { ExecutionJournal } from './state/execution-journal.js';
import { removeExecutionDir } from './state/execution-files.js';
import { join } from 'node:path';
import { createServerHandlers } from './servers/handlers/server-handlers.js';
import { createFileHandlers } from './files/file-handlers.js';
import { ServerSupervisor } from './servers/server-supervisor.js';

export interface Agent {
  /** Resolves once both queues are declared and consumed (the first time). */
  ready: Promise<void>;
  /** Graceful shutdown (see README); safe to call more than once. */
  stop(): Promise<void>;
}

export interface AgentOptions {
  /** Replaces the built-in handlers (Command, HealthCheck, Echo, the servers' lifecycle and files). */
  handlers?: readonly TaskHandler[];
}

/** Cancels that arrive before their ExecuteTask are remembered this long. */
const EARLY_CANCEL_TTL_MS = 10 * 60_000;
const EARLY_CANCEL_MAX = 10_000;
/** CancelTasks handled at once; apart from the work, so never stuck behind it. */
const CONTROL_CONCURRENCY = 5;

export function startAgent(config: AgentConfig, logger: Logger, options: AgentOptions = {}): Agent {
  const mode = agentMode(config, logger);
  const { topology } = mode;
  const connection = createConnection(
    config.amqpUrl,
    `meridian-agent ${config.agentId}`,
    logger,
    mode.connection,
  );
  const dataDir = openDataDir(config.dataDir, logger);
  const journal = new ExecutionJournal({ dir: config.dataDir, logger });
  const spool = new DiskSpool({ dir: join(config.dataDir, 'spool'), maxBytes: config.spoolMaxBytes, logger });
  const sender = createAmqpReportSender(connection, topology);
  const logSender = createAmqpLogSender(connection, topology);
  const publisher = new ReportPublisher({
    sender,
    logSender,
    spool,
    isConnected: () => connection.ready,
    onTerminalConfirmed: (message) => {
      if (message.type === 'AgentHeartbeat' || message.type === 'CommandRejected') return;
      journal.confirmed(message.payload.executionId);
      removeExecutionDir(config.dataDir, message.payload.executionId);
    },
    logger,
  });
  connection.on('connection', () => publisher.wake());
  connection.on('error', () => publisher.connectionLost());
  const publish = (message: Parameters<ReportPublisher['publish']>[0]) => publisher.publish(message);
  const commandChecks = mode.commandChecks({ send: publish });
  const logs = new LogShipper({
    sender: publisher,
    nodeId: config.nodeId,
    flushMs: config.logFlushMs,
    bufferBytes: config.logBufferBytes,
    logger,
  });
  const running = new RunningExecutions();
  const cancelledEarly = new ExpiringMap<string>(EARLY_CANCEL_TTL_MS, EARLY_CANCEL_MAX);
  // Servers first: a state change before the queues are ready is in the first heartbeat anyway.
  let serverChanged = () => undefined as void;
  const supervisor = new ServerSupervisor({
    servers: config.servers,
    baseEnv: config.taskEnv,
    onChange: () => serverChanged(),
    logger,
  });
  supervisor.load();
  const registry = new HandlerRegistry(
    options.handlers ?? [
      createCommandHandler(config.taskEnv),
      healthCheckHandler,
      echoHandler,
      ...createServerHandlers(supervisor, config.servers.stateDir),
      ...createFileHandlers({ host: supervisor, servers: config.servers, baseEnv: config.taskEnv }),
    ],
  );
  const runner = new ExecutionRunner({
    registry,
    running,
    publish,
    logs,
    nodeId: config.nodeId,
    orgId: config.orgId,
    outputMaxBytes: config.outputMaxBytes,
    journal,
    dataDir: config.dataDir,
    logger,
  });
  // Before any delivery: what an earlier agent process accepted is seen through, never run again.
  for (const entry of journal.unfinished()) {
    runner
      .resume(entry)
      .catch((error: unknown) =>
        logger.error({ err: error, executionId: entry.task.executionId }, 'could not resume an execution'),
      );
  }
  const heartbeat = new Heartbeat({
    publish,
    intervalMs: config.heartbeatIntervalMs,
    identity: {
      nodeId: config.nodeId,
      orgId: config.orgId,
      agentId: config.agentId,
      agentVersion: agentPackage.version,
      protocolVersion: mode.protocolVersion,
      capacity: config.maxConcurrency,
      labels: config.labels,
    },
    runningExecutions: () => running.ids(),
    handlerTypes: registry.types,
    servers: () => supervisor.reports(),
    logger,
  });

  let draining = false;
  const readiness = { work: false, control: false };
  let heartbeatStarted = false;
  serverChanged = () => {
    if (heartbeatStarted) heartbeat.beatSoon();
  };
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // Heartbeat only once both queues exist (and again after each reconnect): a heartbeat invites work.
  const onQueueReady = (queue: keyof typeof readiness) => {
    readiness[queue] = true;
    if (!readiness.work || !readiness.control || draining) return;
    if (!heartbeatStarted)
      logger.info({ prefix: config.topologyPrefix }, 'agent started: consuming its queues');
    heartbeatStarted = true;
    markReady();
    void heartbeat.beat();
    heartbeat.start();
  };

  const workConsumer = createCommandConsumer(connection, {
    declaration: topology.work,
    concurrency: config.maxConcurrency,
    accepts: 'ExecuteTask',
    gate: commandChecks.gate,
    refuse: commandChecks.refuse,
    handle: createExecuteTask({
      runner,
      running,
      journal,
      cancelledEarly,
      isDraining: () => draining,
      logger,
    }),
    onReady: () => onQueueReady('work'),
    logger: logger.child({ queue: topology.work.queue }),
  });
  const controlConsumer = createCommandConsumer(connection, {
    declaration: topology.control,
    concurrency: CONTROL_CONCURRENCY,
    accepts: 'CancelTask',
    gate: commandChecks.gate,
    refuse: commandChecks.refuse,
    handle: createCancelTask({ running, cancelledEarly, logger }),
    onReady: () => onQueueReady('control'),
    logger: logger.child({ queue: topology.control.queue }),
  });
  logger.info(
    { agentVersion: agentPackage.version, maxConcurrency: config.maxConcurrency, handlers: registry.types },
    'agent starting',
  );

  let stopping: Promise<void> | undefined;
  return {
    ready,
    stop() {
      stopping ??= shutDownAgent({
        graceMs: config.shutdownGraceSeconds * 1000,
        startDraining: () => (draining = true),
        workConsumer,
        controlConsumer,
        heartbeat,
        running,
        publisher,
        sender,
        logs,
        logSender,
        connection,
        closeState: () => {
          // The servers keep running; the next agent process adopts them.
          supervisor.close();
          journal.close();
          spool.close();
          commandChecks.close();
          dataDir.release();
        },
        logger,
      });
      return stopping;
    },
  };
}
