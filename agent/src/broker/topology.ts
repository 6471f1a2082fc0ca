import type { ConsumerProps } from 'rabbitmq-client';
import { EXCHANGE_TYPES, NODE_QUEUE_ARGUMENTS, topology, type Topology } from '@meridian/contracts/topology';

type ExchangeDeclaration = NonNullable<ConsumerProps['exchanges']>[number];
export type QueueDeclaration = Pick<ConsumerProps, 'queue' | 'queueOptions' | 'exchanges' | 'queueBindings'>;

export interface AgentTopology {
  names: Topology;
  agentEventsExchange: ExchangeDeclaration;
  /** LogChunks, apart from reports; routing key `logRoutingKey`. */
  logsExchange: ExchangeDeclaration;
  logRoutingKey: string;
  /** ExecuteTask for this node. */
  work: QueueDeclaration;
  /** CancelTask for this node, apart from the work so that a cancel never waits behind it. */
  control: QueueDeclaration;
}

/**
 * What the agent declares, handed to the consumers and the publisher so that it is declared again
 * after every reconnect. The control plane's own queues (agent events, dead letters) are not ours.
 */
export function agentTopology(prefix: string, nodeId: string): AgentTopology {
  const names = topology(prefix);
  const commandsExchange: ExchangeDeclaration = {
    exchange: names.commandsExchange,
    type: EXCHANGE_TYPES.commands,
    durable: true,
  };
  const nodeQueue = (queue: string, routingKey: string): QueueDeclaration => ({
    queue,
    queueOptions: { durable: true, arguments: { ...NODE_QUEUE_ARGUMENTS } },
    exchanges: [commandsExchange],
    queueBindings: [{ queue, exchange: names.commandsExchange, routingKey }],
  });
  return {
    names,
    agentEventsExchange: {
      exchange: names.agentEventsExchange,
      type: EXCHANGE_TYPES.agentEvents,
      durable: true,
    },
    logsExchange: { exchange: names.logsExchange, type: EXCHANGE_TYPES.logs, durable: true },
    logRoutingKey: names.logKey(nodeId),
    work: nodeQueue(names.nodeWorkQueue(nodeId), names.nodeWorkKey(nodeId)),
    control: nodeQueue(names.nodeControlQueue(nodeId), names.nodeControlKey(nodeId)),
  };
}
