import { z } from 'zod';
import { ServerStateSchema } from '../task-types/server-spec.js';

/**
 * A server hosted by a node, as the control plane knows it: from the node's heartbeats, or
 * `assigned` when a ServerStart with a `nodeId` placed it there and the node has not reported it yet.
 */
export const NodeServerStateSchema = z.union([ServerStateSchema, z.literal('assigned')]);
export type NodeServerState = z.infer<typeof NodeServerStateSchema>;

export const NodeServerSchema = z.object({
  serverId: z.string(),
  nodeId: z.string(),
  state: NodeServerStateSchema,
  pid: z.number().int().nullable(),
  startedAt: z.iso.datetime().nullable(),
  lastExitCode: z.number().int().nullable(),
  lastExitSignal: z.string().nullable(),
  restarts: z.number().int(),
  /** When the state last changed (the agent's clock). */
  changedAt: z.iso.datetime().nullable(),
  /** When a heartbeat last reported it; null while `assigned`. */
  reportedAt: z.iso.datetime().nullable(),
});
export type NodeServer = z.infer<typeof NodeServerSchema>;

export const NodeServerListSchema = z.object({
  items: z.array(NodeServerSchema),
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
});
export type NodeServerList = z.infer<typeof NodeServerListSchema>;

/** Routing key and `type` of the integration event published when a server's state changes. */
export const SERVER_STATE_CHANGED = 'server.state_changed';
export const SERVER_STATE_CHANGED_VERSION = 1;

/** Body of `server.state_changed` on the events exchange (`<prefix>.events`). */
export const ServerStateChangedSchema = z.object({
  eventId: z.uuid(),
  name: z.literal(SERVER_STATE_CHANGED),
  version: z.literal(SERVER_STATE_CHANGED_VERSION),
  occurredAt: z.iso.datetime(),
  orgId: z.string(),
  nodeId: z.string(),
  serverId: z.string(),
  /** null the first time the control plane hears of the server. */
  previousState: NodeServerStateSchema.nullable(),
  state: NodeServerStateSchema,
  pid: z.number().int().nullable(),
  lastExitCode: z.number().int().nullable(),
  lastExitSignal: z.string().nullable(),
  restarts: z.number().int(),
});
export type ServerStateChanged = z.infer<typeof ServerStateChangedSchema>;
