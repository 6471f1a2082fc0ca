import type { Connection, ReturnedMessage } from 'rabbitmq-client';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { jsonBody, publishProperties } from './publish-properties.js';
import type { AgentTopology } from './topology.js';
import { UnroutableError, type MessageSender } from './report-publisher.js';

export interface AmqpReportSender extends MessageSender {
  close(): Promise<void>;
}

/**
 * Sends agent messages to the agent-events exchange (routing key from the topology: the message
 * type, or `<username>.<type>` when enrolled), with publisher
 * confirms. Messages are `mandatory`: one that no queue takes comes back, and is then reported as
 * unroutable instead of counting as delivered.
 */
export function createAmqpReportSender(connection: Connection, topology: AgentTopology): AmqpReportSender {
  const exchange = topology.names.agentEventsExchange;
  const returned = new Set<string>();
  const publisher = connection.createPublisher({
    confirm: true,
    exchanges: topology.agentEventsDeclarations,
  });
  publisher.on('basic.return', (message: ReturnedMessage) => {
    if (message.messageId) returned.add(message.messageId);
  });

  return {
    async send(message: AgentMessage): Promise<void> {
      const routingKey = topology.eventRoutingKey(message.type);
      await publisher.send(
        { ...publishProperties(message, topology.userId), exchange, routingKey, mandatory: true },
        jsonBody(message),
      );
      // rabbitmq-client emits basic.return on setImmediate, after the confirm may have resolved.
      await new Promise((resolve) => setImmediate(resolve));
      if (returned.delete(message.messageId)) {
        throw new UnroutableError(`no queue is bound for ${message.type} on ${exchange}`);
      }
    },
    close: () => publisher.close(),
  };
}
