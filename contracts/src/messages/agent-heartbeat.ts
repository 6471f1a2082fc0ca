import { z } from 'zod';

export const AGENT_HEARTBEAT = 'AgentHeartbeat';
export const AGENT_HEARTBEAT_SCHEMA_VERSION = 1;
export const HEARTBEAT_INTERVAL_SECONDS = 5;
/** A node whose last heartbeat is older than this many intervals is offline. */
export const MISSED_HEARTBEATS_BEFORE_OFFLINE = 3;

export const AgentHeartbeatSchema = z.object({
  nodeId: z.string().min(1).max(200),
  /** The organisation that owns the node: it only ever receives that organisation's tasks. */
  orgId: z.string().min(1).max(200),
  agentId: z.string().min(1).max(200),
  agentVersion: z.string().min(1).max(50),
  protocolVersion: z.number().int().min(1),
  capacity: z.number().int().min(0).max(10_000),
  runningExecutions: z.array(z.uuid()).max(10_000),
  labels: z.record(z.string(), z.string()).default({}),
  /** True in the last heartbeat of an agent that is shutting down: send it no more work. */
  draining: z.boolean().optional(),
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeatSchema>;
