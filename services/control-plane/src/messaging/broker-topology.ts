import { DELIVERY_LIMIT, EXCHANGE_TYPES, type Topology } from '@meridian/contracts/topology';

/**
 * What the control plane declares on the broker. Handed to rabbitmq-client's publisher and
 * consumer options so that it is declared again after every reconnect. Each agent declares its
 * own node queues.
 */
export function controlPlaneDeclarations(t: Topology) {
  const exchanges = [
    { exchange: t.commandsExchange, type: EXCHANGE_TYPES.commands, durable: true },
    { exchange: t.agentEventsExchange, type: EXCHANGE_TYPES.agentEvents, durable: true },
    { exchange: t.deadLetterExchange, type: EXCHANGE_TYPES.deadLetter, durable: true },
  ];
  const agentEventsQueue = {
    queue: t.agentEventsQueue,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': t.deadLetterExchange,
      'x-dead-letter-routing-key': t.agentEventsDeadLetterKey,
    },
  };
  const deadLetterQueue = {
    queue: t.agentEventsDeadLetterQueue,
    durable: true,
    arguments: { 'x-queue-type': 'quorum' as const },
  };
  const queueBindings = [
    { queue: t.agentEventsQueue, exchange: t.agentEventsExchange, routingKey: '#' },
    {
      queue: t.agentEventsDeadLetterQueue,
      exchange: t.deadLetterExchange,
      routingKey: t.agentEventsDeadLetterKey,
    },
  ];
  return { exchanges, agentEventsQueue, deadLetterQueue, queueBindings };
}
