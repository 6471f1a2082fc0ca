import type { AsyncMessage, Connection, Consumer, Publisher } from 'rabbitmq-client';
import { ConsumerStatus } from 'rabbitmq-client';
import type { Logger } from 'pino';
import type { Topology } from '@meridian/contracts/topology';
import { DEAD_LETTER_REASON_HEADER } from '@meridian/contracts/topology';
import { parseAgentMessage, type AgentMessage } from '@meridian/contracts/messages/agent-message';
import type { RecordResult } from '../app/record-agent-messages.js';
import { controlPlaneDeclarations } from './broker-topology.js';
import { MessageBatcher } from './message-batcher.js';

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
  const batcher = new MessageBatcher<AgentMessage, RecordResult>(options.batchSize, async (messages) => {
    try {
      return await options.record(messages);
    } catch (error) {
      if (messages.length === 1) throw error;
      logger.warn({ err: error, size: messages.length }, 'batch failed; applying its messages one by one');
      const results: RecordResult[] = [];
      for (const message of messages) results.push(...(await options.record([message])));
      return results;
    }
  });

  async function deadLetter(message: AsyncMessage, reason: string): Promise<void> {
    await options.publisher.send(
      {
        exchange: topology.deadLetterExchange,
        routingKey: topology.agentEventsDeadLetterKey,
        messageId: message.messageId,
        type: message.type,
        correlationId: message.correlationId,
        contentType: message.contentType,
        durable: true,
        headers: {
          ...message.headers,
          [DEAD_LETTER_REASON_HEADER]: reason,
          'x-meridian-original-routing-key': message.routingKey,
        },
      },
      rawBody(message),
    );
  }

  const consumer = options.connection.createConsumer(
    {
      queue: topology.agentEventsQueue,
      queueOptions: declarations.agentEventsQueue,
      qos: { prefetchCount: options.prefetch },
      concurrency: options.prefetch,
      requeue: true,
      exchanges: declarations.exchanges,
      queueBindings: declarations.queueBindings.filter((b) => b.queue === topology.agentEventsQueue),
    },
    async (message) => {
      const parsed = parseAgentMessage(rawBody(message));
      if (!parsed.ok) {
        logger.warn({ reason: parsed.reason, routingKey: message.routingKey }, 'agent message dead-lettered');
        await deadLetter(message, parsed.reason);
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

/** The body as bytes: rabbitmq-client decodes JSON bodies itself, and validation needs the raw form. */
function rawBody(message: AsyncMessage): Buffer {
  const body: unknown = message.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body ?? null), 'utf8');
}
