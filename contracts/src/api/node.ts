import { z } from 'zod';

export const NodeSchema = z.object({
  id: z.string(),
  orgId: z.string(),
  status: z.enum(['online', 'offline', 'draining']),
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
});
export type Node = z.infer<typeof NodeSchema>;

export const NodeListSchema = z.object({ items: z.array(NodeSchema) });
