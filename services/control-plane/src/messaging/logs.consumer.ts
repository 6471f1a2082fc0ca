import type { AsyncMessage, Connection, Consumer, Publisher } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import { summarizeError, truncateText } from '@meridian/contracts/logging/serialize-error';
import { parseMessageOf, type ParseResult } from '@meridian/contracts/messages/agent-message';
import { LOG_CHUNK, LogChunkSchema } from '@meridian/contracts/messages/log-chunk';
import type { Topology } from '@meridian/contracts/topology';
import type { Received } from '../app/resolve-senders.js';
import type { LogChunkMessage, StoreResult } from '../logs/store/store-log-chunks.js';
import type { CommandKeyring } from '../security/command-keyring.js';
import { isTransientDatabaseError } from '../persistence/database-errors.js';
import { controlPlaneDeclarations, queueConsumerProps } from './broker-topology.js';
import { deadLetter, rawBody } from './dead-letter.js';
import { receivedKey, senderOfDelivery } from './delivery-sender.js';
import { isolateFailures, MessageBatcher, settleUnlessStopped, type Settled } from './message-batcher.js';
import { TransientRetry } from './transient-retry.js';

const LOG_CHUNK_SCHEMAS = { [LOG_CHUNK]: LogChunkSchema };

export interface LogsConsumerOptions {
  connection: Connection;
  publisher: Publisher;
  topology: Topology;
  prefetch: number;
  batchSize: number;
  logger: Logger;
  /** Verifies the original sender of re-driven chunks, and vouches for senders in dead letters. */
  keyring: CommandKeyring;
  /** Stores chunks with their senders; a chunk whose sender may not send it is `refused`. */
  store: (chunks: Received<LogChunkMessage>[]) => Promise<StoreResult[]>;
  /** Waits between tries while the database is away (tests shorten them). */
  retryDelaysMs?: { min: number; max: number };
}

/**
 * What the consumer did since it started; chunks the store did not take are `ignored`, those it
 * refused from their sender are `refused` (and dead-lettered: counted in `deadLettered` too).
 */
export interface LogsConsumerStats {
  chunks: number;
  lines: number;
  duplicates: number;
  ignored: number;
  refused: number;
  deadLettered: number;
}

export interface LogsConsumer {
  consumer: Consumer;
  drain(): Promise<void>;
  /** Stops waiting for the database (what waits is requeued), stops consuming, and drains. */
  close(): Promise<void>;
  stats(): LogsConsumerStats;
  /** Batches or chunks waiting for the database now (0 while it answers). */
  waitingForDatabase(): number;
}

/** Reasons in logs are cut to this; the dead-letter header carries the reason as given. */
const LOGGED_REASON_CHARS = 200;

/**
 * Consumes agents' LogChunks from the one logs queue that every consuming replica shares
 * (competing consumers: each chunk is stored by one process), with manual acks after commit.
 * Chunks are stored in batches, one batch at a time: deliveries of one channel come in queue
 * order, so one replica stores an execution's chunks in the order the agent sent them.
 *
 * A chunk that fails validation, or that its sender (the broker-validated AMQP `user_id`) may not
 * send, is published to the dead-letter exchange with the reason and acked. While the database is away, a batch is tried again with a bounded backoff and its
 * deliveries stay unacked (the prefetch limit pauses the flow): nothing is requeued or parked for
 * it. A batch that fails otherwise is stored one chunk at a time, and a chunk that fails on its own
 * is dead-lettered alone with a short reason, so that it cannot loop.
 */
export function startLogsConsumer(options: LogsConsumerOptions): LogsConsumer {
  const { topology } = options;
  const logger = options.logger.child({ component: 'logs-consumer' });
  const declarations = controlPlaneDeclarations(topology);
  const stats: LogsConsumerStats = {
    chunks: 0,
    lines: 0,
    duplicates: 0,
    ignored: 0,
    refused: 0,
    deadLettered: 0,
  };
  const retry = new TransientRetry({
    isTransient: isTransientDatabaseError,
    logger,
    minDelayMs: options.retryDelaysMs?.min,
    maxDelayMs: options.retryDelaysMs?.max,
  });
  const batcher = new MessageBatcher<Received<LogChunkMessage>, Settled<StoreResult>>(
    options.batchSize,
    isolateFailures(options.store, {
      keyOf: receivedKey,
      asDuplicate: (result) => ({ ...result, outcome: 'duplicate', newLines: 0 }),
      retry,
      onSplit: (error, size) =>
        logger.warn({ err: error, size }, 'log batch failed; storing its chunks one by one'),
    }),
    1,
  );
  const deadLetterTarget = { exchange: topology.deadLetterExchange, routingKey: topology.logsDeadLetterKey };

  const consumer = options.connection.createConsumer(
    queueConsumerProps(declarations, declarations.logsQueue, options.prefetch),
    async (message) => {
      const sender = senderOfDelivery(message, options.keyring.verifyKeys);
      const from = { sender, key: options.keyring.signing };
      const parsed = parseSafely(message);
      if (!parsed.ok) {
        logger.warn(
          {
            reason: truncateText(parsed.reason, LOGGED_REASON_CHARS),
            messageId: message.messageId,
            routingKey: message.routingKey,
            bytes: rawBody(message).length,
          },
          'log chunk dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, parsed.reason, from);
        stats.deadLettered += 1;
        return ConsumerStatus.ACK;
      }
      const settled = await settleUnlessStopped(batcher, { message: parsed.message, sender });
      // Shutting down while the database is away: back to the queue for another replica.
      if (!settled) return ConsumerStatus.REQUEUE;
      if (!settled.ok) {
        const reason = `not stored: ${summarizeError(settled.error)}`;
        logger.warn(
          {
            err: settled.error,
            messageId: parsed.message.messageId,
            executionId: parsed.message.payload.executionId,
            lines: parsed.message.payload.lines.length,
          },
          'log chunk dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, reason, from);
        stats.deadLettered += 1;
        return ConsumerStatus.ACK;
      }
      const result = settled.value;
      if (result.outcome === 'refused') {
        logger.warn(
          {
            messageId: result.messageId,
            nodeId: parsed.message.nodeId,
            userId: message.userId,
            reason: truncateText(result.reason ?? '', LOGGED_REASON_CHARS),
          },
          'log chunk refused: dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, result.reason ?? 'refused', from);
        stats.refused += 1;
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
  return {
    consumer,
    drain: () => batcher.drain(),
    async close() {
      retry.stop();
      await consumer.close();
      await batcher.drain();
    },
    stats: () => ({ ...stats }),
    waitingForDatabase: () => retry.waiting,
  };
}

/** Validation never throws; a body that breaks the parser itself (too deep, say) is refused too. */
function parseSafely(message: AsyncMessage): ParseResult<LogChunkMessage> {
  try {
    return parseMessageOf<LogChunkMessage>(rawBody(message), LOG_CHUNK_SCHEMAS);
  } catch (error) {
    return { ok: false, reason: `could not be parsed: ${summarizeError(error)}` };
  }
}
