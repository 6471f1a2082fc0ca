import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import type { LockedExecution } from '../persistence/execution-with-task.js';
import type { NewOutboxMessage } from '../persistence/outbox.writes.js';
import type { AppDeps } from './app-deps.js';
import { cancelCommandMessage, nameBasedUuid } from './cancel-command.js';

/**
 * The CancelTask for an agent that reports progress on an execution the control plane gave up
 * (its node was lost, or its deadline passed) while the task is retried elsewhere. Its id is
 * derived from the execution's, so a flood of late reports queues one command: the outbox keeps
 * the first row with a given id.
 */
export function lateReportCancel(
  deps: Pick<AppDeps, 'topology' | 'defaults'>,
  execution: LockedExecution,
  report: ExecutionReport,
  now: Date,
): NewOutboxMessage {
  return cancelCommandMessage(deps.topology, {
    taskId: execution.taskId,
    executionId: execution.id,
    nodeId: report.nodeId,
    reason: `execution ${execution.status}: given up by the control plane`,
    gracePeriodSeconds: deps.defaults.cancelGraceSeconds,
    correlationId: execution.correlationId,
    now,
    messageId: nameBasedUuid(`${execution.id}:late-report`),
  });
}
