import { z } from 'zod';

/**
 * Identity of an enrolled node on the broker (protocol version 2). Each enrolled node has a broker
 * user of its own, named after its node id and the topology prefix, so that one broker can serve
 * several deployments. That name is also the first part of every routing key the agent publishes
 * with, which lets RabbitMQ's topic permissions (with the `{username}` variable) refuse a key that
 * names another node; and the agent sets it as the validated `user_id` of every message.
 */

/**
 * Node ids that can be enrolled: no dots, so that a node id in a permission's regular expression
 * (where `{username}` is expanded as is) matches only itself.
 */
export const ENROLLED_NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
export const EnrolledNodeIdSchema = z
  .string()
  .regex(ENROLLED_NODE_ID_PATTERN, 'letters, digits, "_" and "-", at most 100, not starting with a sign');

/** `<prefix>.node.<nodeId>`: the node's broker user, also the stem of its queues' names. */
export function brokerUsername(prefix: string, nodeId: string): string {
  return `${prefix}.node.${nodeId}`;
}

/** Routing key of an agent message of an enrolled agent on the agent-events exchange. */
export function enrolledEventKey(username: string, messageType: string): string {
  return `${username}.${messageType}`;
}

/** Routing key of a LogChunk of an enrolled agent on the logs exchange. */
export function enrolledLogKey(username: string): string {
  return `${username}.logs`;
}
