/**
 * Every exchange, queue and routing key of the broker, derived from one prefix so that tests can
 * run side by side on one broker (each with its own prefix) and deployments can share a vhost.
 *
 * - `commands` (direct): the control plane publishes `ExecuteTask` with routing key
 *   `node.<nodeId>.work` and `CancelTask` with `node.<nodeId>.control`. Each agent declares its two
 *   queues and binds them, so a cancel never waits behind queued work.
 * - `agent-events` (topic): agents publish reports and heartbeats with the message type as routing
 *   key; the control plane consumes them from one durable quorum queue shared by all replicas,
 *   bound with `#` so that a message type added by a newer agent still reaches it (and is
 *   dead-lettered with a reason there, rather than dropped unseen by the broker).
 * - `dead-letter` (direct): messages that cannot be processed, routed by the name of their source.
 * - `events` (topic): what happened, for other services to bind to, routing key = the event's name
 *   (e.g. `server.state_changed`). Published through the outbox; the control plane binds nothing.
 */
export interface Topology {
  prefix: string;
  /** Agents publish LogChunk here (topic), routing key `logKey(nodeId)`; never in the way of commands or reports. */
  logsExchange: string;
  logKey(nodeId: string): string;
  /**
   * Every control-plane replica consumes this one queue: each line is stored once. A quorum queue
   * with a delivery limit; it replaced the classic `<prefix>.control-plane.logs`, which had none
   * (docs/reliability.md says how to remove the old one).
   */
  logsQueue: string;
  logsDeadLetterQueue: string;
  logsDeadLetterKey: string;
  /**
   * After storing lines, the storing replica publishes them here (topic, routing key
   * `liveLogKey(executionId)`); each replica binds a queue of its own for the executions its
   * WebSocket clients watch.
   */
  liveLogsExchange: string;
  liveLogKey(executionId: string): string;
  commandsExchange: string;
  agentEventsExchange: string;
  agentEventsQueue: string;
  deadLetterExchange: string;
  agentEventsDeadLetterQueue: string;
  agentEventsDeadLetterKey: string;
  nodeWorkQueue(nodeId: string): string;
  nodeWorkKey(nodeId: string): string;
  nodeControlQueue(nodeId: string): string;
  nodeControlKey(nodeId: string): string;
  /** Integration events (topic), routing key = event name; consumers bind queues of their own. */
  eventsExchange: string;
}

export const EXCHANGE_TYPES = {
  commands: 'direct',
  agentEvents: 'topic',
  deadLetter: 'direct',
  logs: 'topic',
  liveLogs: 'topic',
  events: 'topic',
} as const;

export const DEFAULT_TOPOLOGY_PREFIX = 'meridian';
/**
 * Arguments of each node's work and control queues: classic, durable, persistent messages. On one
 * broker node a quorum queue delivered each message ~39 ms after publishing, against ~1 ms for a
 * classic queue (measured here, docs/performance.md): that is most of a dispatch's latency budget.
 * These queues hold at most a node's capacity of commands (the control plane sends only into free
 * slots), and a command that keeps failing is ended by its deadline and a cancel, so they do not
 * need the quorum queue's delivery limit.
 */
export const NODE_QUEUE_ARGUMENTS = { 'x-queue-type': 'classic' } as const;

/** Deliveries of one message before the broker dead-letters it (quorum queue `x-delivery-limit`). */
export const DELIVERY_LIMIT = 5;
/** Header carrying why a message was dead-lettered by a consumer. */
export const DEAD_LETTER_REASON_HEADER = 'x-meridian-dead-letter-reason';

const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Node ids become part of queue names and routing keys: keep them to a safe alphabet. */
export function isValidNodeId(nodeId: string): boolean {
  return NODE_ID_PATTERN.test(nodeId);
}

export function topology(prefix: string = DEFAULT_TOPOLOGY_PREFIX): Topology {
  return {
    prefix,
    commandsExchange: `${prefix}.commands`,
    agentEventsExchange: `${prefix}.agent-events`,
    agentEventsQueue: `${prefix}.control-plane.agent-events`,
    deadLetterExchange: `${prefix}.dead-letter`,
    agentEventsDeadLetterQueue: `${prefix}.agent-events.dead-letter`,
    agentEventsDeadLetterKey: 'agent-events',
    logsExchange: `${prefix}.logs`,
    logKey: (nodeId) => `node.${nodeId}`,
    logsQueue: `${prefix}.control-plane.log-chunks`,
    logsDeadLetterQueue: `${prefix}.logs.dead-letter`,
    logsDeadLetterKey: 'logs',
    liveLogsExchange: `${prefix}.logs.live`,
    liveLogKey: (executionId) => `execution.${executionId}`,
    nodeWorkQueue: (nodeId) => `${prefix}.node.${nodeId}.work`,
    nodeWorkKey: (nodeId) => `node.${nodeId}.work`,
    nodeControlQueue: (nodeId) => `${prefix}.node.${nodeId}.control`,
    nodeControlKey: (nodeId) => `node.${nodeId}.control`,
    eventsExchange: `${prefix}.events`,
  };
}
