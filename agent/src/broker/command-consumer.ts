import { ConsumerStatus, type Connection, type Consumer } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { parseCommandMessage, type CommandMessage } from '@meridian/contracts/messages/command-message';
import type { CommandOutcome } from '../commands/command-outcome.js';
import type { QueueDeclaration } from './topology.js';

export interface CommandConsumerOptions<TType extends CommandMessage['type']> {
  declaration: QueueDeclaration;
  /** Prefetch and concurrency: how many of these commands are handled at once. */
  concurrency: number;
  accepts: TType;
  handle(command: Extract<CommandMessage, { type: TType }>): Promise<CommandOutcome>;
  onReady(): void;
  logger: Logger;
}

const STATUS: Record<CommandOutcome, ConsumerStatus> = {
  ack: ConsumerStatus.ACK,
  requeue: ConsumerStatus.REQUEUE,
  drop: ConsumerStatus.DROP,
};

/**
 * A thin adapter: parse the command, hand it to its use case, map the outcome to ack/nack. What
 * cannot be parsed is rejected without requeue (the broker dead-letters or drops it): requeueing it
 * would loop forever.
 */
export function createCommandConsumer<TType extends CommandMessage['type']>(
  connection: Connection,
  options: CommandConsumerOptions<TType>,
): Consumer {
  const { logger } = options;
  const consumer = connection.createConsumer(
    {
      ...options.declaration,
      qos: { prefetchCount: options.concurrency },
      concurrency: options.concurrency,
      requeue: false,
    },
    async (delivery) => {
      const parsed = parseCommandMessage(delivery.body);
      if (!parsed.ok) {
        logger.warn(
          { reason: parsed.reason, messageId: delivery.messageId, redelivered: delivery.redelivered },
          'malformed command rejected',
        );
        return ConsumerStatus.DROP;
      }
      if (parsed.message.type !== options.accepts) {
        logger.warn(
          { type: parsed.message.type, messageId: parsed.message.messageId },
          'command on the wrong queue rejected',
        );
        return ConsumerStatus.DROP;
      }
      try {
        return STATUS[await options.handle(parsed.message as Extract<CommandMessage, { type: TType }>)];
      } catch (error) {
        logger.error(
          { err: error, messageId: parsed.message.messageId },
          'command handling failed; rejected',
        );
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
