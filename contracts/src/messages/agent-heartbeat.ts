import { z } from 'zod';
import { hasControlCharacter, identifierText, int4, utf8Bytes } from '../storable.js';
import { NodeIdSchema } from './envelope.js';
import { AGENT_VERSION_MAX_LENGTH, ID_MAX_LENGTH, LABEL_LIMITS } from './limits.js';
import { MAX_SERVERS_PER_NODE, ServerReportSchema } from '../task-types/server-spec.js';

export const AGENT_HEARTBEAT = 'AgentHeartbeat';
export const AGENT_HEARTBEAT_SCHEMA_VERSION = 1;
export const HEARTBEAT_INTERVAL_SECONDS = 5;
/** A node whose last heartbeat is older than this many intervals is offline. */
export const MISSED_HEARTBEATS_BEFORE_OFFLINE = 3;

const labelText = (maxBytes: number, minLength: number) =>
  z
    .string()
    .min(minLength)
    .refine((text) => utf8Bytes(text) <= maxBytes, `at most ${maxBytes} bytes`)
    .refine((text) => !hasControlCharacter(text), 'must not contain control characters (NUL included)');

/** A node's labels: at most LABEL_LIMITS.count, each key and value and all of them bounded. */
export const NodeLabelsSchema = z
  .record(labelText(LABEL_LIMITS.keyMaxBytes, 1), labelText(LABEL_LIMITS.valueMaxBytes, 0))
  .refine(
    (labels) => Object.keys(labels).length <= LABEL_LIMITS.count,
    `at most ${LABEL_LIMITS.count} labels`,
  )
  .refine(
    (labels) =>
      Object.entries(labels).reduce((sum, [key, value]) => sum + utf8Bytes(key) + utf8Bytes(value), 0) <=
      LABEL_LIMITS.totalMaxBytes,
    `at most ${LABEL_LIMITS.totalMaxBytes} bytes of keys and values together`,
  );

export const AgentHeartbeatSchema = z.object({
  nodeId: NodeIdSchema,
  /** The organisation that owns the node: it only ever receives that organisation's tasks. */
  orgId: identifierText(ID_MAX_LENGTH),
  agentId: identifierText(ID_MAX_LENGTH),
  agentVersion: identifierText(AGENT_VERSION_MAX_LENGTH),
  protocolVersion: int4(1),
  capacity: z.number().int().min(0).max(10_000),
  runningExecutions: z.array(z.uuid()).max(10_000),
  labels: NodeLabelsSchema.default({}),
  /** True in the last heartbeat of an agent that is shutting down: send it no more work. */
  draining: z.boolean().optional(),
  /**
   * The task types this agent runs (optional: agents before it did not say). Not used to place
   * tasks yet; shown to operators.
   */
  handlerTypes: z.array(identifierText(100)).max(200).optional(),
  /**
   * The servers this node hosts and their states (optional: agents before it hosted none). A
   * heartbeat is also sent at once when a server's state changes.
   */
  servers: z.array(ServerReportSchema).max(MAX_SERVERS_PER_NODE).optional(),
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeatSchema>;
