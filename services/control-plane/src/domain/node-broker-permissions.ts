import { brokerUsername } from '@meridian/contracts/security/node-identity';
import type { Topology } from '@meridian/contracts/topology';

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/** What an enrolled node's broker user may do, as RabbitMQ's permission regular expressions. */
export interface NodeBrokerPermissions {
  username: string;
  configure: string;
  write: string;
  read: string;
  topic: TopicPermission[];
}

/** Quotes every character a regular expression gives a meaning to (names contain dots). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The least a node needs: it declares nothing (the control plane declares and binds its queues);
 * it reads only its own two queues (no read on the commands exchange, so it cannot bind a queue to
 * another node's key); it writes only to the agent-events and logs exchanges, and there only with
 * routing keys that start with its own username (`{username}` is expanded by the broker; node ids
 * have no dots, so the key of another node never matches).
 */
export function nodeBrokerPermissions(topology: Topology, nodeId: string): NodeBrokerPermissions {
  const either = (...names: string[]) => `^(${names.map(escapeRegExp).join('|')})$`;
  return {
    username: brokerUsername(topology.prefix, nodeId),
    configure: '^$',
    write: either(topology.agentEventsExchange, topology.logsExchange),
    read: either(topology.nodeWorkQueue(nodeId), topology.nodeControlQueue(nodeId)),
    topic: [
      { exchange: topology.agentEventsExchange, write: '^{username}\\.[A-Za-z0-9_-]+$', read: '^$' },
      { exchange: topology.logsExchange, write: '^{username}\\.logs$', read: '^$' },
    ],
  };
}
