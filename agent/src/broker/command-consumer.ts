import { ConsumerStatus, type Connection, type Consumer } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { parseCommandMessage, type CommandMessage } from '@meridian/contracts/messages/command-message';
import type { CommandOutcome } from '../commands/command-outcome.js';
import type { CommandGate, CommandRefusal } from '../security/command-gate.js';
import type { QueueDeclaration } from './topology.js';

export interface CommandConsumerOptions<TType extends CommandMessage['type']> {
  declaration: QueueDeclaration;
  /** Prefetch and concurrency: how many of these commands are handled at once. */
  concurrency: number;
  accepts: TType;
  /** Lets through only what may be acted on (enrolled: signed for this node, not replayed). */
  gate: CommandGate;
  handle(command: Extract<CommandMessage, { type: TType }>): Promise<CommandOutcome>;
  /** A command not acted on: unreadable, on the wrong queue, or kept out by the gate. */
  refuse(refusal: CommandRefusal, queueType: TType): Promise<CommandOutcome>;
  onReady(): void;
  logger: Logger;
}

const STATUS: Record<CommandOutcome, ConsumerStatus> = {
  ack: ConsumerStatus.ACK,
  requeue: ConsumerStatus.REQUEUE,
  drop: ConsumerStatus.DROP,
};

/**
 * A thin adapter: through the gate, parse the command, hand it to its use case, map the outcome
 * to ack/nack. What is refused is never requeued: requeueing it would loop forever.
 */
export function createCommandConsumer<TType extends CommandMessage['type']>(
  connection: Connection,
  options: CommandConsumerOptions<TType>,
): Consumer {
  const { logger } = options;
  const refuse = async (refusal: CommandRefusal) => STATUS[await options.refuse(refusal, options.accepts)];
  const consumer = connection.createConsumer(
    {
      ...options.declaration,
      qos: { prefetchCount: options.concurrency },
      concurrency: options.concurrency,
      requeue: false,
    },
    async (delivery) => {
      const fromDelivery = { messageId: delivery.messageId, type: delivery.type };
      let messageId = delivery.messageId;
      try {
        const admission = await options.gate.admit(delivery);
        if (!admission.ok) return await refuse(admission.refusal);
        const parsed = parseCommandMessage(admission.body);
        if (!parsed.ok) return await refuse({ code: 'invalid', reason: parsed.reason, ...fromDelivery });
        const command = parsed.message;
        messageId = command.messageId;
        if (command.type !== options.accepts) {
          return await refuse({
            code: 'invalid',
            reason: `${command.type} on the ${options.accepts} queue`,
            messageId: command.messageId,
            type: command.type,
            correlationId: command.correlationId,
            taskId: command.payload.taskId,
            executionId: command.payload.executionId,
          });
        }
        return STATUS[await options.handle(command as Extract<CommandMessage, { type: TType }>)];
      } catch (error) {
        logger.error({ err: error, messageId }, 'command handling failed; rejected');
        return ConsumerStatus.DROP;
      }
    },
  );
  consumer.on('error', (error: unknown) => {
    if (error instanceof Error && error.message.startsWith('failed to ack/nack')) {
      // The channel died with the connection; the broker redelivers and the duplicate is recognised.
      logger.info(
        { err: error },
        'could not settle a delivery on a lost channel; the broker will redeliver it',
      );
    } else {
      logger.warn({ err: error }, 'consumer error');
    }
  });
  consumer.on('ready', () => {
    logger.debug('consuming');
    options.onReady();
  });
  return consumer;
}
