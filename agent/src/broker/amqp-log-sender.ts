import type { Connection } from 'rabbitmq-client';
import { parseMessageOf } from '@meridian/contracts/messages/agent-message';
import { LOG_CHUNK, LogChunkSchema } from '@meridian/contracts/messages/log-chunk';
import type { LogChunkMessage, LogChunkSender } from '../logs/execution-log.js';
import { jsonBody, publishProperties } from './publish-properties.js';
import type { AgentTopology } from './topology.js';

const LOG_CHUNK_SCHEMAS = { [LOG_CHUNK]: LogChunkSchema };

export interface AmqpLogSender extends LogChunkSender {
  close(): Promise<void>;
}

/**
 * Publishes LogChunks to the logs exchange (routing key `topology.logRoutingKey`) on a channel of its own,
 * persistent, with publisher confirms. Not `mandatory`: a chunk nobody consumes is not worth
 * holding. A chunk caught by a lost connection is sent once more after the reconnect (the control
 * plane stores each seq once); after that it counts as dropped. Validated before sending, like the
 * reports (about 0.3 ms per 1,000 lines).
 */
export function createAmqpLogSender(connection: Connection, topology: AgentTopology): AmqpLogSender {
  const exchange = topology.names.logsExchange;
  const routingKey = topology.logRoutingKey;
  const publisher = connection.createPublisher({
    confirm: true,
    maxAttempts: 2,
    exchanges: topology.logsDeclarations,
  });
  return {
    async send(message: LogChunkMessage): Promise<void> {
      const invalid = describeInvalidLogChunk(message);
      if (invalid) throw new Error(`refusing to publish an invalid LogChunk: ${invalid}`);
      await publisher.send(
        { ...publishProperties(message, topology.userId), exchange, routingKey },
        jsonBody(message),
      );
    },
    close: () => publisher.close(),
  };
}

/** Why the message is not a LogChunk the contracts accept, or undefined when it is one. */
export function describeInvalidLogChunk(message: LogChunkMessage): string | undefined {
  const parsed = parseMessageOf<LogChunkMessage>(message, LOG_CHUNK_SCHEMAS);
  return parsed.ok ? undefined : parsed.reason;
}
