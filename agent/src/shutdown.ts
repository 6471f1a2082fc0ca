import type { Connection, Consumer } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { DEFAULT_KILL_GRACE_MS } from './abort-reason.js';
import type { AmqpReportSender } from './broker/amqp-report-sender.js';
import type { ReportPublisher } from './broker/report-publisher.js';
import type { Heartbeat } from './heartbeat.js';
import type { RunningExecutions } from './running-executions.js';
import { settledWithin } from './with-timeout.js';

export interface ShutdownDeps {
  graceMs: number;
  startDraining(): void;
  workConsumer: Consumer;
  controlConsumer: Consumer;
  heartbeat: Heartbeat;
  running: RunningExecutions;
  publisher: ReportPublisher;
  sender: AmqpReportSender;
  connection: Connection;
  logger: Logger;
}

/** Bound on each broker step of the shutdown, so that a broker outage cannot hang it. */
const STEP_TIMEOUT_MS = 5_000;

/**
 * Graceful shutdown: take no new work, announce it (heartbeats say `draining` from now on), let
 * what runs finish within the grace period, then stop the rest. Those are reported TaskFailed
 * retryable "the agent shut down", not TaskCancelled: nobody asked to cancel them, and the control
 * plane should run them again elsewhere. Then flush the reports and close the connection.
 */
export async function shutDownAgent(deps: ShutdownDeps): Promise<void> {
  const { logger, running } = deps;
  logger.info({ running: running.size, graceMs: deps.graceMs }, 'shutting down: taking no new work');
  deps.startDraining();
  // Cancels consuming at once; resolves only once running executions are acked or requeued.
  const workClosed = deps.workConsumer.close();
  await settledWithin(deps.heartbeat.drain(), STEP_TIMEOUT_MS);

  if (!(await running.waitUntilEmpty(deps.graceMs))) {
    logger.warn({ executions: running.ids() }, 'grace period over: stopping what still runs');
    running.abortAll({ kind: 'shutdown', gracePeriodMs: DEFAULT_KILL_GRACE_MS });
    await running.waitUntilEmpty(DEFAULT_KILL_GRACE_MS + STEP_TIMEOUT_MS);
  }
  deps.heartbeat.stop();
  // Cancels stay welcome until here: they may still arrive for executions in their grace period.
  const closed = await Promise.all([
    settledWithin(workClosed, STEP_TIMEOUT_MS),
    settledWithin(deps.controlConsumer.close(), STEP_TIMEOUT_MS),
  ]);
  if (!(await deps.publisher.flush(STEP_TIMEOUT_MS))) {
    logger.warn({ held: deps.publisher.backlogSize }, 'some reports were not confirmed before shutdown');
  }
  deps.publisher.close();
  await settledWithin(deps.sender.close(), STEP_TIMEOUT_MS);
  if (!closed.every(Boolean) || !(await settledWithin(deps.connection.close(), STEP_TIMEOUT_MS))) {
    deps.connection.unsafeDestroy();
  }
  logger.info('agent stopped');
}
