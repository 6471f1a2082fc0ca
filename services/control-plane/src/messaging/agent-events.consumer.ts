import type { AsyncMessage, Connection, Consumer, Publisher } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import type { Topology } from '@meridian/contracts/topology';
import { summarizeError, truncateText } from '@meridian/contracts/logging/serialize-error';
import {
  parseAgentMessage,
  type AgentMessage,
  type ParseResult,
} from '@meridian/contracts/messages/agent-message';
import type { RecordResult } from '../app/record-agent-messages.js';
import type { Received } from '../app/resolve-senders.js';
import type { CommandKeyring } from '../security/command-keyring.js';
import { isTransientDatabaseError } from '../persistence/database-errors.js';
import { controlPlaneDeclarations, queueConsumerProps } from './broker-topology.js';
import { deadLetter, rawBody } from './dead-letter.js';
import { receivedKey, senderOfDelivery } from './delivery-sender.js';
import { isolateFailures, MessageBatcher, settleUnlessStopped, type Settled } from './message-batcher.js';
import { RetryStoppedError, TransientRetry } from './transient-retry.js';
import { recordInvalidEndReport } from './invalid-end-report.js';

export interface AgentEventsConsumerOptions {
  connection: Connection;
  publisher: Publisher;
  topology: Topology;
  prefetch: number;
  batchSize: number;
  logger: Logger;
  /** Verifies the original sender of re-driven messages, and vouches for senders in dead letters. */
  keyring: CommandKeyring;
  /** Records messages with their senders; a message whose sender may not say it is `refused`. */
  record: (messages: Received<AgentMessage>[]) => Promise<RecordResult[]>;
  /** Waits between tries while the database is away (tests shorten them). */
  retryDelaysMs?: { min: number; max: number };
}

export interface AgentEventsConsumer {
  consumer: Consumer;
  /** Waits until every message handed over so far is processed. */
  drain: () => Promise<void>;
  /** Stops waiting for the database (what waits is requeued), stops consuming, and drains. */
  close: () => Promise<void>;
  /** Batches or messages waiting for the database now (0 while it answers). */
  waitingForDatabase: () => number;
}

/** Reasons in logs are cut to this; the dead-letter header carries the reason as given. */
const LOGGED_REASON_CHARS = 200;

/**
 * Consumes agent reports and heartbeats with manual acks. A message that fails validation is
 * published to the dead-letter queue with the reason in a header, then acked: it is never
 * requeued, and the consumer goes on. Valid messages are applied in batches, each with its sender
 * (the broker-validated AMQP `user_id`); one whose sender may not say what it says is refused,
 * dead-lettered with the reason and acked, and changes nothing:
 * - while the database is away (or a batch hits a deadlock), the batch is tried again with a
 *   bounded backoff and its deliveries stay unacked: nothing counts toward the queue's delivery
 *   limit, and the prefetch limit pauses the flow until the database answers;
 * - a batch that fails otherwise is applied one message at a time; a message that fails on its
 *   own is dead-lettered alone with a short reason (error kind, code, message), the others applied.
 */
export function startAgentEventsConsumer(options: AgentEventsConsumerOptions): AgentEventsConsumer {
  const { topology, logger } = options;
  const declarations = controlPlaneDeclarations(topology);
  const retry = new TransientRetry({
    isTransient: isTransientDatabaseError,
    logger: logger.child({ component: 'agent-events-consumer' }),
    minDelayMs: options.retryDelaysMs?.min,
    maxDelayMs: options.retryDelaysMs?.max,
  });
  const batcher = new MessageBatcher<Received<AgentMessage>, Settled<RecordResult>>(
    options.batchSize,
    isolateFailures(options.record, {
      // A forged copy of a message (same id, another sender) is not the same message.
      keyOf: receivedKey,
      asDuplicate: (result) => ({ ...result, outcome: 'duplicate' }),
      retry,
      onSplit: (error, size) =>
        logger.warn({ err: error, size }, 'batch failed; applying its messages one by one'),
    }),
  );
  // A salvaged end report goes through the batcher like any report; if it cannot be applied, the
  // original is dead-lettered all the same.
  const applyFailure =
    (sender: Received<AgentMessage>['sender']) =>
    async (failure: AgentMessage): Promise<RecordResult> => {
      const settled = await batcher.add({ message: failure, sender });
      if (!settled.ok) throw settled.error;
      return settled.value;
    };
  const deadLetterTarget = {
    exchange: topology.deadLetterExchange,
    routingKey: topology.agentEventsDeadLetterKey,
  };

  const consumer = options.connection.createConsumer(
    queueConsumerProps(declarations, declarations.agentEventsQueue, options.prefetch),
    async (message) => {
      const sender = senderOfDelivery(message, options.keyring.verifyKeys);
      const from = { sender, key: options.keyring.signing };
      const parsed = parseSafely(message);
      if (!parsed.ok) {
        try {
          await recordInvalidEndReport(rawBody(message), parsed.reason, applyFailure(sender), logger);
        } catch (error) {
          if (error instanceof RetryStoppedError) return ConsumerStatus.REQUEUE;
          logger.warn({ err: error, messageId: message.messageId }, 'invalid end report not applied');
        }
        logger.warn(
          {
            reason: truncateText(parsed.reason, LOGGED_REASON_CHARS),
            messageId: message.messageId,
            routingKey: message.routingKey,
            bytes: rawBody(message).length,
          },
          'agent message dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, parsed.reason, from);
        return ConsumerStatus.ACK;
      }
      const settled = await settleUnlessStopped(batcher, { message: parsed.message, sender });
      // Shutting down while the database is away: back to the queue for another replica.
      if (!settled) return ConsumerStatus.REQUEUE;
      if (!settled.ok) {
        const reason = `not applied: ${summarizeError(settled.error)}`;
        logger.warn(
          { err: settled.error, messageId: parsed.message.messageId, type: parsed.message.type },
          'agent message dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, reason, from);
        return ConsumerStatus.ACK;
      }
      const result = settled.value;
      if (result.outcome === 'refused') {
        logger.warn(
          {
            messageId: result.messageId,
            type: parsed.message.type,
            nodeId: parsed.message.nodeId,
            userId: message.userId,
            reason: truncateText(result.reason ?? '', LOGGED_REASON_CHARS),
          },
          'agent message refused: dead-lettered',
        );
        await deadLetter(options.publisher, deadLetterTarget, message, result.reason ?? 'refused', from);
        return ConsumerStatus.ACK;
      }
      if (result.outcome !== 'applied') {
        logger.debug(
          { messageId: result.messageId, outcome: result.outcome, reason: result.reason },
          'agent message changed nothing',
        );
      }
      return ConsumerStatus.ACK;
    },
  );
  consumer.on('error', (error) => logger.error({ err: error }, 'agent events consumer error'));
  return {
    consumer,
    drain: () => batcher.drain(),
    async close() {
      retry.stop();
      await consumer.close();
      await batcher.drain();
    },
    waitingForDatabase: () => retry.waiting,
  };
}

/** Validation never throws; a body that breaks the parser itself (too deep, say) is refused too. */
function parseSafely(message: AsyncMessage): ParseResult<AgentMessage> {
  try {
    return parseAgentMessage(rawBody(message));
  } catch (error) {
    return { ok: false, reason: `could not be parsed: ${summarizeError(error)}` };
  }
}
