import type { Connection, Consumer } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { DEFAULT_KILL_GRACE_MS } from './abort-reason.js';
import type { AmqpLogSender } from './broker/amqp-log-sender.js';
import type { AmqpReportSender } from './broker/amqp-report-sender.js';
import type { ReportPublisher } from './broker/report-publisher.js';
import type { Heartbeat } from './heartbeat.js';
import type { LogShipper } from './logs/log-shipper.js';
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
  logs: LogShipper;
  logSender: AmqpLogSender;
  connection: Connection;
  /** Closes the journal and the spool files. */
  closeState(): void;
  logger: Logger;
}

/** Bound on what follows the grace period (and the kill grace), so that a broker outage cannot hang it. */
const FINAL_STEPS_MS = 10_000;

/**
 * Graceful shutdown: take no new work, announce it (heartbeats say `draining` from now on), let
 * what runs finish within the grace period, then stop the rest. Those are reported TaskFailed
 * retryable "the agent shut down", not TaskCancelled: nobody asked to cancel them, and the control
 * plane should run them again elsewhere. Then flush the reports and the logs and close the connection.
 */
export async function shutDownAgent(deps: ShutdownDeps): Promise<void> {
  const { logger, running } = deps;
  logger.info({ running: running.size, graceMs: deps.graceMs }, 'shutting down: taking no new work');
  deps.startDraining();
  // Cancels consuming at once; resolves only once running executions are acked or requeued.
  const workClosed = deps.workConsumer.close();
  void deps.heartbeat.drain();

  let deadline = Date.now() + FINAL_STEPS_MS;
  if (!(await running.waitUntilEmpty(deps.graceMs))) {
    logger.warn({ executions: running.ids() }, 'grace period over: stopping what still runs');
    running.abortAll({ kind: 'shutdown', gracePeriodMs: DEFAULT_KILL_GRACE_MS });
    deadline = Date.now() + DEFAULT_KILL_GRACE_MS + FINAL_STEPS_MS;
  }
  const remaining = () => Math.max(0, deadline - Date.now());
  await running.waitUntilEmpty(remaining());
  deps.heartbeat.stop();
  // Cancels stay welcome until here: they may still arrive for executions in their grace period.
  const closed = await Promise.all([
    settledWithin(workClosed, remaining()),
    settledWithin(deps.controlConsumer.close(), remaining()),
  ]);
  const [reportsSent, logsSent] = await Promise.all([
    deps.publisher.flush(remaining()),
    deps.logs.stop(remaining()),
  ]);
  if (!reportsSent) {
    logger.warn(
      { spooledBytes: deps.publisher.spooledBytes },
      'some reports were not confirmed before shutdown; they stay in the spool for the next start',
    );
  }
  if (!logsSent) logger.warn('some log lines were not confirmed before shutdown');
  deps.publisher.close();
  await settledWithin(Promise.all([deps.sender.close(), deps.logSender.close()]), remaining());
  if (!closed.every(Boolean) || !(await settledWithin(deps.connection.close(), remaining()))) {
    deps.connection.unsafeDestroy();
  }
  deps.closeState();
  logger.info('agent stopped');
}
