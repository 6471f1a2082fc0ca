import type { ExecutionReport } from '@meridian/contracts/messages/agent-message';
import { AGENT_EVENT_SCHEMA_VERSION } from '@meridian/contracts/messages/agent-events';
import { CANCEL_TASK } from '@meridian/contracts/messages/cancel-task';
import { EXECUTE_TASK } from '@meridian/contracts/messages/execute-task';
import type { ReturnedCommand } from './outbox-relay.js';

/**
 * Whether a message the broker returned was a command (published `mandatory` so that an unroutable
 * one is noticed). Other outbox messages, `LogLinesStored` for executions nobody watches, come back
 * by design and mean nothing.
 */
export function isCommandType(type: string | undefined): boolean {
  return type === EXECUTE_TASK || type === CANCEL_TASK;
}

/** Larger than any sequence an agent stamps, so that the failure applies whatever came before. */
const BROKER_REPORT_SEQUENCE = 2 ** 31 - 1;

/**
 * An `ExecuteTask` the broker returned as unroutable never reached a node (its queue is gone).
 * It is recorded as a retryable failure of that execution, through the same path as an agent's
 * report, so that the slot is freed and the retry policy decides what happens next.
 */
export function reportsForReturnedCommands(
  returned: readonly ReturnedCommand[],
  now: Date,
): ExecutionReport[] {
  return returned.flatMap((command): ExecutionReport[] => {
    const payload = command.body.payload;
    const nodeId = typeof command.body['nodeId'] === 'string' ? command.body['nodeId'] : undefined;
    if (command.type !== EXECUTE_TASK || !payload?.executionId || !payload.taskId || !nodeId) return [];
    return [
      {
        messageId: command.messageId,
        type: 'TaskFailed',
        schemaVersion: AGENT_EVENT_SCHEMA_VERSION,
        occurredAt: now.toISOString(),
        correlationId:
          typeof command.body['correlationId'] === 'string'
            ? command.body['correlationId']
            : command.messageId,
        nodeId,
        payload: {
          taskId: payload.taskId,
          executionId: payload.executionId,
          sequence: BROKER_REPORT_SEQUENCE,
          error: `not delivered: the broker has no queue for ${command.routingKey}`,
          exitCode: null,
          retryable: true,
        },
      },
    ];
  });
}
