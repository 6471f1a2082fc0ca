import type { ConsumerProps } from 'rabbitmq-client';
import { EXCHANGE_TYPES, NODE_QUEUE_ARGUMENTS, topology, type Topology } from '@meridian/contracts/topology';
import { enrolledEventKey, enrolledLogKey } from '@meridian/contracts/security/node-identity';

type ExchangeDeclaration = NonNullable<ConsumerProps['exchanges']>[number];
export type QueueDeclaration = Pick<ConsumerProps, 'queue' | 'queueOptions' | 'exchanges' | 'queueBindings'>;

export interface AgentTopology {
  names: Topology;
  /** Declared by the report publisher before it publishes (none for an enrolled agent). */
  agentEventsDeclarations: ExchangeDeclaration[];
  /** Declared by the log publisher (none for an enrolled agent). */
  logsDeclarations: ExchangeDeclaration[];
  /** Routing key of an agent message on the agent-events exchange. */
  eventRoutingKey(messageType: string): string;
  /** LogChunks, apart from reports, on the logs exchange. */
  logRoutingKey: string;
  /** AMQP `user_id` of every message published: the broker refuses another than the login's. */
  userId?: string;
  /** ExecuteTask for this node. */
  work: QueueDeclaration;
  /** CancelTask for this node, apart from the work so that a cancel never waits behind it. */
  control: QueueDeclaration;
}

/**
 * Development mode (protocol version 1): what the agent declares, handed to the consumers and the
 * publishers so that it is declared again after every reconnect; message type as routing key.
 * The control plane's own queues (agent events, dead letters) are not ours.
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
    agentEventsDeclarations: [
      { exchange: names.agentEventsExchange, type: EXCHANGE_TYPES.agentEvents, durable: true },
    ],
    logsDeclarations: [{ exchange: names.logsExchange, type: EXCHANGE_TYPES.logs, durable: true }],
    eventRoutingKey: (messageType) => messageType,
    logRoutingKey: names.logKey(nodeId),
    work: nodeQueue(names.nodeWorkQueue(nodeId), names.nodeWorkKey(nodeId)),
    control: nodeQueue(names.nodeControlQueue(nodeId), names.nodeControlKey(nodeId)),
  };
}

/**
 * Enrolled (protocol version 2): the node's broker user may configure nothing, so the agent
 * declares nothing; the control plane declared and bound its two queues, which it only checks
 * (passive declare: no permission needed) and consumes. Routing keys start with its username,
 * which the broker's topic permissions require, and every message carries it as `user_id`.
 */
export function enrolledAgentTopology(prefix: string, nodeId: string, username: string): AgentTopology {
  const names = topology(prefix);
  const existingQueue = (queue: string): QueueDeclaration => ({ queue, queueOptions: { passive: true } });
  return {
    names,
    agentEventsDeclarations: [],
    logsDeclarations: [],
    eventRoutingKey: (messageType) => enrolledEventKey(username, messageType),
    logRoutingKey: enrolledLogKey(username),
    userId: username,
    work: existingQueue(names.nodeWorkQueue(nodeId)),
    control: existingQueue(names.nodeControlQueue(nodeId)),
  };
}
