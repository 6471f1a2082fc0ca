import type { Logger } from 'pino';
import type { EnvelopeOf } from '@meridian/contracts/messages/envelope';
import type { CancelTask } from '@meridian/contracts/messages/cancel-task';
import type { ExpiringMap } from '../expiring-map.js';
import type { RunningExecutions } from '../running-executions.js';
import type { CommandOutcome } from './command-outcome.js';

export type CancelTaskMessage = EnvelopeOf<'CancelTask', CancelTask>;

export interface CancelTaskDeps {
  running: RunningExecutions;
  cancelledEarly: ExpiringMap<string>;
  logger: Logger;
}

/**
 * Use case for one CancelTask. A running execution is aborted (its runner reports TaskCancelled);
 * one not seen yet is remembered, so that its ExecuteTask, should it arrive later (the two travel on
 * different queues), is reported cancelled without running. Always acked: cancelling is idempotent.
 */
export function createCancelTask(deps: CancelTaskDeps) {
  return (command: CancelTaskMessage): Promise<CommandOutcome> => {
    const { taskId, executionId, reason, gracePeriodSeconds } = command.payload;
    const logger = deps.logger.child({ correlationId: command.correlationId, taskId, executionId });
    const execution = deps.running.get(executionId);
    if (execution) {
      logger.info({ reason, gracePeriodSeconds }, 'cancelling');
      execution.abort({ kind: 'cancelled', reason, gracePeriodMs: gracePeriodSeconds * 1000 });
    } else if (deps.running.stateOf(executionId) === 'finished') {
      logger.info('cancel for an execution that already finished; nothing to do');
    } else {
      logger.info('cancel for an execution not running here; remembering it');
      deps.cancelledEarly.set(executionId, reason);
    }
    return Promise.resolve('ack');
  };
}
