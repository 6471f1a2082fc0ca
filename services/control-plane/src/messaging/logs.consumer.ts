import type { Connection, Consumer, Publisher } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { parseMessageOf } from '@meridian/contracts/messages/agent-message';
import { LOG_CHUNK, LogChunkSchema } from '@meridian/contracts/messages/log-chunk';
import type { Topology } from '@meridian/contracts/topology';
import type { LogChunkMessage, StoreResult } from '../logs/store/store-log-chunks.js';
import { controlPlaneDeclarations, queueConsumerProps } from './broker-topology.js';
import { deadLetter, rawBody } from './dead-letter.js';
import { MessageBatcher, oneByOneOnFailure } from './message-batcher.js';

const LOG_CHUNK_SCHEMAS = { [LOG_CHUNK]: LogChunkSchema };

export interface LogsConsumerOptions {
  connection: Connection;
  publisher: Publisher;
  topology: Topology;
  prefetch: number;
  batchSize: number;
  logger: Logger;
  store: (chunks: LogChunkMessage[]) => Promise<StoreResult[]>;
}

/** What the consumer did since it started; chunks refused by the store are `ignored`. */
export interface LogsConsumerStats {
  chunks: number;
  lines: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
}

export interface LogsConsumer {
  consumer: Consumer;
  drain(): Promise<void>;
  stats(): LogsConsumerStats;
}

/**
 * Consumes agents' LogChunks from the one logs queue that every consuming replica shares
 * (competing consumers: each chunk is stored by one process), with manual acks after commit.
 * Chunks are stored in batches, one batch at a time: deliveries of one channel come in queue
 * order, so one replica stores an execution's chunks in the order the agent sent them.
 *
 * A chunk that fails validation is published to the dead-letter exchange with the reason and
 * acked. A chunk that cannot be stored is requeued once; if it fails again after redelivery it is
 * dead-lettered with the error, so that it cannot loop (a classic queue has no delivery limit).
 */
export function startLogsConsumer(options: LogsConsumerOptions): LogsConsumer {
  const { topology } = options;
  const logger = options.logger.child({ component: 'logs-consumer' });
  const declarations = controlPlaneDeclarations(topology);
  const stats: LogsConsumerStats = { chunks: 0, lines: 0, duplicates: 0, ignored: 0, deadLettered: 0 };
  const batcher = new MessageBatcher<LogChunkMessage, StoreResult>(
    options.batchSize,
    oneByOneOnFailure(options.store, (error, size) =>
      logger.warn({ err: error, size }, 'log batch failed; storing its chunks one by one'),
    ),
    1,
  );
  const deadLetterTarget = { exchange: topology.deadLetterExchange, routingKey: topology.logsDeadLetterKey };

  const consumer = options.connection.createConsumer(
    queueConsumerProps(declarations, declarations.logsQueue, options.prefetch),
    async (message) => {
      const parsed = parseMessageOf<LogChunkMessage>(rawBody(message), LOG_CHUNK_SCHEMAS);
      if (!parsed.ok) {
        logger.warn({ reason: parsed.reason, routingKey: message.routingKey }, 'log chunk dead-lettered');
        await deadLetter(options.publisher, deadLetterTarget, message, parsed.reason);
        stats.deadLettered += 1;
        return ConsumerStatus.ACK;
      }
      let result: StoreResult;
      try {
        result = await batcher.add(parsed.message);
      } catch (error) {
        if (!message.redelivered) throw error;
        const reason = `not stored after a redelivery: ${error instanceof Error ? error.message : String(error)}`;
        logger.error({ err: error, messageId: parsed.message.messageId }, 'log chunk dead-lettered');
        await deadLetter(options.publisher, deadLetterTarget, message, reason);
        stats.deadLettered += 1;
        return ConsumerStatus.ACK;
      }
      stats.chunks += 1;
      stats.lines += result.newLines;
      if (result.outcome === 'duplicate') stats.duplicates += 1;
      if (result.outcome === 'ignored') {
        stats.ignored += 1;
        logger.warn(
          {
            messageId: result.messageId,
            executionId: parsed.message.payload.executionId,
            nodeId: parsed.message.nodeId,
            reason: result.reason,
          },
          'log chunk ignored',
        );
      }
      return ConsumerStatus.ACK;
    },
  );
  consumer.on('error', (error) => logger.error({ err: error }, 'logs consumer error'));
  return { consumer, drain: () => batcher.drain(), stats: () => ({ ...stats }) };
}
