import type { Logger } from 'pino';
import type { ExpiringMap } from '../expiring-map.js';
import type { ExecuteTaskMessage } from '../execute-task-message.js';
import type { ExecutionRunner } from '../execution-runner.js';
import type { RunningExecutions } from '../running-executions.js';
import type { ExecutionJournal } from '../state/execution-journal.js';
import type { CommandOutcome } from './command-outcome.js';

export interface ExecuteTaskDeps {
  runner: ExecutionRunner;
  running: RunningExecutions;
  /** Every execution this node accepted, across restarts of the agent. */
  journal: ExecutionJournal;
  /** Executions cancelled before their ExecuteTask arrived, with the reason. */
  cancelledEarly: ExpiringMap<string>;
  isDraining(): boolean;
  logger: Logger;
}

/**
 * Use case for one ExecuteTask delivery. Delivery is at least once: an execution already running
 * or finished here, or accepted by an earlier agent process (the journal), is acked without
 * running it again (a journalled one is resumed at start-up, see ExecutionRunner.resume). The command is acked only after its terminal
 * report is confirmed, so a crash before that gets it redelivered.
 */
export function createExecuteTask(deps: ExecuteTaskDeps) {
  return async (command: ExecuteTaskMessage): Promise<CommandOutcome> => {
    const { taskId, executionId } = command.payload;
    const running = deps.running.stateOf(executionId);
    const state = running === 'unknown' && deps.journal.get(executionId) ? 'journalled' : running;
    if (state !== 'unknown') {
      deps.logger.info(
        { correlationId: command.correlationId, taskId, executionId, state },
        'duplicate ExecuteTask acked',
      );
      return 'ack';
    }
    if (deps.isDraining()) return 'requeue';
    try {
      const cancelReason = deps.cancelledEarly.take(executionId);
      if (cancelReason === undefined) await deps.runner.run(command);
      else await deps.runner.reportCancelledBeforeStart(command, cancelReason);
      return 'ack';
    } catch (error) {
      deps.logger.error(
        { err: error, correlationId: command.correlationId, taskId, executionId },
        'terminal report not confirmed; returning the command to the queue',
      );
      return 'requeue';
    }
  };
}
