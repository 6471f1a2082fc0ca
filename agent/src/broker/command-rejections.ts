import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { identifierText } from '@meridian/contracts/storable';
import type { CommandRejectedMessage } from '@meridian/contracts/messages/agent-message';
import { buildEnvelope } from '@meridian/contracts/messages/envelope';
import {
  COMMAND_REJECTED,
  COMMAND_REJECTED_SCHEMA_VERSION,
  CommandRejectedSchema,
} from '@meridian/contracts/messages/command-rejected';
import type { CommandRefusal } from '../security/command-gate.js';

export interface CommandRejectedSender {
  send(message: CommandRejectedMessage): Promise<void>;
}

const identifier = (value: string | undefined, maxLength: number) =>
  identifierText(maxLength).safeParse(value).success ? value : undefined;
const uuid = (value: string | undefined) => (z.uuid().safeParse(value).success ? value : undefined);

/**
 * The CommandRejected report of a refusal. What came from the refused command is untrusted: ids
 * that the schema would refuse are left out (or replaced by `unknown`), never passed on as they are.
 */
export function buildCommandRejected(
  refusal: CommandRefusal,
  fields: { nodeId: string; queueType: string; messageId?: string; occurredAt?: Date },
): CommandRejectedMessage {
  const taskId = uuid(refusal.taskId);
  const executionId = uuid(refusal.executionId);
  const commandMessageId = identifier(refusal.messageId, 200) ?? 'unknown';
  const payload = CommandRejectedSchema.parse({
    commandMessageId,
    commandType: identifier(refusal.type, 100) ?? fields.queueType,
    ...(taskId ? { taskId } : {}),
    ...(executionId ? { executionId } : {}),
    code: refusal.code,
    reason: refusal.reason,
  });
  return buildEnvelope(
    COMMAND_REJECTED,
    COMMAND_REJECTED_SCHEMA_VERSION,
    {
      messageId: fields.messageId ?? randomUUID(),
      occurredAt: fields.occurredAt ?? new Date(),
      correlationId: identifier(refusal.correlationId, 200) ?? commandMessageId,
      nodeId: fields.nodeId,
    },
    payload,
  );
}

export interface CommandRejectionsOptions {
  sender: CommandRejectedSender;
  nodeId: string;
  logger: Logger;
}

/**
 * Tells the control plane about each refused command, through the report publisher (spooled while
 * the broker is away, like every report). A report that cannot even be spooled is logged, and the
 * refusal stands either way.
 */
export function createCommandRejections(options: CommandRejectionsOptions) {
  return async (refusal: CommandRefusal, queueType: string): Promise<void> => {
    const message = buildCommandRejected(refusal, { nodeId: options.nodeId, queueType });
    const { payload } = message;
    options.logger.warn(
      {
        code: payload.code,
        reason: payload.reason,
        commandMessageId: payload.commandMessageId,
        commandType: payload.commandType,
        taskId: payload.taskId,
        executionId: payload.executionId,
      },
      'command refused: %s',
      payload.code,
    );
    try {
      await options.sender.send(message);
    } catch (error) {
      options.logger.warn(
        { err: error, commandMessageId: payload.commandMessageId },
        'CommandRejected not sent',
      );
    }
  };
}
