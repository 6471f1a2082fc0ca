import { createHash, randomUUID } from 'node:crypto';
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
  /** A fixed id makes the command once-only: the outbox keeps the first row with a given id. */
  messageId?: string;
}

/** Any constant: the namespace of the name-based (version 5) ids of once-only commands. */
const ONCE_ONLY_NAMESPACE = Buffer.from('6f1f1b52d7a94b0c9d0e3c3b5a7e2f10', 'hex');

/** A UUID (version 5, RFC 9562) derived from `name`: the same name gives the same id. */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(ONCE_ONLY_NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The outbox row that tells a node, on its control queue, to stop one execution. */
export function cancelCommandMessage(topology: Topology, input: CancelCommandInput): NewOutboxMessage {
  const command: CancelTask = {
    taskId: input.taskId,
    executionId: input.executionId,
    reason: input.reason,
    gracePeriodSeconds: input.gracePeriodSeconds,
  };
  const messageId = input.messageId ?? randomUUID();
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
