import { z } from 'zod';

export const NodeSchema = z.object({
  id: z.string(),
  orgId: z.string(),
  /**
   * online: heartbeating; offline: some heartbeats missed; lost: silent for
   * `NODE_LOST_AFTER_SECONDS`, its executions given up (a heartbeat makes it online again);
   * revoked: cut off by an admin, takes no work until it is enrolled again.
   */
  status: z.enum(['online', 'offline', 'draining', 'lost', 'revoked']),
  agentId: z.string(),
  agentVersion: z.string(),
  protocolVersion: z.number().int(),
  capacity: z.number().int(),
  /** Executions the control plane has dispatched to the node and not yet seen end. */
  runningCount: z.number().int(),
  /** Executions the agent said it was running in its last heartbeat. */
  reportedRunning: z.number().int(),
  labels: z.record(z.string(), z.string()),
  lastSeenAt: z.string(),
  firstSeenAt: z.string(),
  /** When the node was declared lost; null while it is not. */
  lostAt: z.string().nullable(),
  /** True while the node has broker credentials of its own (it was enrolled and is not revoked). */
  enrolled: z.boolean(),
  /** When the node was revoked; null while it is not. */
  revokedAt: z.string().nullable(),
  /**
   * The task types the node's agent runs, as its heartbeat announced them; null when it never
   * said (older agents do not).
   */
  handlerTypes: z.array(z.string()).nullable().optional(),
});
export type Node = z.infer<typeof NodeSchema>;

export const NodeListSchema = z.object({ items: z.array(NodeSchema) });
