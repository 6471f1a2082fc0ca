import type { Connection, Consumer, Publisher } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import type { Topology } from '@meridian/contracts/topology';
import { parseAgentMessage, type AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { RecordResult } from '../app/record-agent-messages.js';
import { controlPlaneDeclarations, queueConsumerProps } from './broker-topology.js';
import { deadLetter, rawBody } from './dead-letter.js';
import { recordInvalidEndReport } from './invalid-end-report.js';
import { MessageBatcher, oneByOneOnFailure } from './message-batcher.js';

export interface AgentEventsConsumerOptions {
  connection: Connection;
  publisher: Publisher;
  topology: Topology;
  prefetch: number;
  batchSize: number;
  logger: Logger;
  record: (messages: AgentMessage[]) => Promise<RecordResult[]>;
}

/**
 * Consumes agent reports and heartbeats with manual acks. A message that fails validation is
 * published to the dead-letter queue with the reason in a header, then acked: it is never
 * requeued, and the consumer goes on. Valid messages are applied in batches; a batch that fails
 * is retried one message at a time so that one bad row cannot hold back the others.
 */
export function startAgentEventsConsumer(options: AgentEventsConsumerOptions): {
  consumer: Consumer;
  drain: () => Promise<void>;
} {
  const { topology, logger } = options;
  const declarations = controlPlaneDeclarations(topology);
  const batcher = new MessageBatcher<AgentMessage, RecordResult>(
    options.batchSize,
    oneByOneOnFailure(options.record, (error, size) =>
      logger.warn({ err: error, size }, 'batch failed; applying its messages one by one'),
    ),
  );
  const deadLetterTarget = {
    exchange: topology.deadLetterExchange,
    routingKey: topology.agentEventsDeadLetterKey,
  };

  const consumer = options.connection.createConsumer(
    queueConsumerProps(declarations, declarations.agentEventsQueue, options.prefetch),
    async (message) => {
      const body = rawBody(message);
      const parsed = parseAgentMessage(body);
      if (!parsed.ok) {
        await recordInvalidEndReport(body, parsed.reason, (failure) => batcher.add(failure), logger);
        logger.warn({ reason: parsed.reason, routingKey: message.routingKey }, 'agent message dead-lettered');
        await deadLetter(options.publisher, deadLetterTarget, message, parsed.reason);
        return ConsumerStatus.ACK;
      }
      const result = await batcher.add(parsed.message);
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
  return { consumer, drain: () => batcher.drain() };
}
