import type { ConsumerProps } from 'rabbitmq-client';
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
    { exchange: t.logsExchange, type: EXCHANGE_TYPES.logs, durable: true },
    { exchange: t.liveLogsExchange, type: EXCHANGE_TYPES.liveLogs, durable: true },
    // Integration events (server.state_changed) leave through the outbox; other services bind to it.
    { exchange: t.eventsExchange, type: EXCHANGE_TYPES.events, durable: true },
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
  // Quorum, for its delivery limit: a chunk that crashes or fails its consumer every time (too deep
  // to parse, a crash loop) is dead-lettered by the broker after DELIVERY_LIMIT deliveries instead
  // of looping forever, as it did on the classic queue this replaced (classic queues have no
  // delivery limit). Measured here with TCP_NODELAY, a quorum queue adds ~1–2 ms (p50) to a
  // delivery and loses no throughput (docs/reliability.md, "Broker outages").
  const logsQueue = {
    queue: t.logsQueue,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': t.deadLetterExchange,
      'x-dead-letter-routing-key': t.logsDeadLetterKey,
    },
  };
  // Parked chunks wait for a human: quorum, like the agent-events dead letters.
  const logsDeadLetterQueue = {
    queue: t.logsDeadLetterQueue,
    durable: true,
    arguments: { 'x-queue-type': 'quorum' as const },
  };
  const queueBindings = [
    { queue: t.agentEventsQueue, exchange: t.agentEventsExchange, routingKey: '#' },
    { queue: t.logsQueue, exchange: t.logsExchange, routingKey: '#' },
    { queue: t.logsDeadLetterQueue, exchange: t.deadLetterExchange, routingKey: t.logsDeadLetterKey },
    {
      queue: t.agentEventsDeadLetterQueue,
      exchange: t.deadLetterExchange,
      routingKey: t.agentEventsDeadLetterKey,
    },
  ];
  return { exchanges, agentEventsQueue, deadLetterQueue, logsQueue, logsDeadLetterQueue, queueBindings };
}

type ControlPlaneDeclarations = ReturnType<typeof controlPlaneDeclarations>;

/**
 * Options of a consumer of one of the control plane's queues: manual acks with `prefetch` in
 * flight, handled concurrently (the batchers group them), and the queue declared with its
 * exchanges and own binding after every reconnect. Its dead-letter queue is the publisher's to
 * declare.
 */
export function queueConsumerProps(
  declarations: ControlPlaneDeclarations,
  queue: ControlPlaneDeclarations['agentEventsQueue'] | ControlPlaneDeclarations['logsQueue'],
  prefetch: number,
): ConsumerProps {
  return {
    queue: queue.queue,
    queueOptions: queue,
    qos: { prefetchCount: prefetch },
    concurrency: prefetch,
    requeue: true,
    exchanges: declarations.exchanges,
    queueBindings: declarations.queueBindings.filter((binding) => binding.queue === queue.queue),
  };
}
