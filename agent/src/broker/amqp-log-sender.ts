import type { Connection } from 'rabbitmq-client';
import type { LogChunkMessage, LogChunkSender } from '../logs/execution-log.js';
import type { AgentTopology } from './topology.js';

export interface AmqpLogSender extends LogChunkSender {
  close(): Promise<void>;
}

/**
 * Publishes LogChunks to the logs exchange (routing key `node.<nodeId>`) on a channel of its own,
 * persistent, with publisher confirms. Not `mandatory`: a chunk nobody consumes is not worth
 * holding. A chunk caught by a lost connection is sent once more after the reconnect (the control
 * plane stores each seq once); after that it counts as dropped.
 */
export function createAmqpLogSender(connection: Connection, topology: AgentTopology): AmqpLogSender {
  const exchange = topology.names.logsExchange;
  const routingKey = topology.logRoutingKey;
  const publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 2,
    exchanges: [topology.logsExchange],
  });
  return {
    async send(message: LogChunkMessage): Promise<void> {
      await publisher.send(
        {
          exchange,
          routingKey,
          durable: true,
          messageId: message.messageId,
          type: message.type,
          correlationId: message.correlationId,
          contentType: 'application/json',
          timestamp: Math.floor(Date.parse(message.occurredAt) / 1000),
        },
        Buffer.from(JSON.stringify(message), 'utf8'),
      );
    },
    close: () => publisher.close(),
  };
}
