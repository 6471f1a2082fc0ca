import { randomUUID } from 'node:crypto';
import type { Topology } from '@meridian/contracts/topology';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  CANCEL_TASK,
  CANCEL_TASK_SCHEMA_VERSION,
  type CancelTask,
} from '@meridian/contracts/messages/cancel-task';
import type { NewOutboxMessage } from '../persistence/outbox.writes.js';

export interface CancelCommandInput {
  taskId: string;
  executionId: string;
  nodeId: string;
  reason: string;
  gracePeriodSeconds: number;
  correlationId: string;
  now: Date;
}

/** The outbox row that tells a node, on its control queue, to stop one execution. */
export function cancelCommandMessage(topology: Topology, input: CancelCommandInput): NewOutboxMessage {
  const command: CancelTask = {
    taskId: input.taskId,
    executionId: input.executionId,
    reason: input.reason,
    gracePeriodSeconds: input.gracePeriodSeconds,
  };
  const messageId = randomUUID();
  return {
    messageId,
    exchange: topology.commandsExchange,
    routingKey: topology.nodeControlKey(input.nodeId),
    type: CANCEL_TASK,
    correlationId: input.correlationId,
    body: buildEnvelope(
      CANCEL_TASK,
      CANCEL_TASK_SCHEMA_VERSION,
      { messageId, occurredAt: input.now, correlationId: input.correlationId, nodeId: input.nodeId },
      command,
    ),
  };
}
