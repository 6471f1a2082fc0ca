import { z } from 'zod';
import { noNul } from './common.js';
import { ServerSpecSchema, ServerStateSchema } from './server-spec.js';

/*
 * Payloads and results of the server lifecycle tasks. Each targets one server: `targetType:
 * "Server"`, `targetId` = the server's id.
 */

/** `ServerStart`: starts the server (refused if it runs); `spec` is needed the first time. */
export const ServerStartPayloadSchema = z.object({
  /** Replaces the spec kept on the node; without it, the kept spec is used. */
  spec: ServerSpecSchema.optional(),
});
export type ServerStartPayload = z.infer<typeof ServerStartPayloadSchema>;
/** Result of ServerStart (and ServerRestart): the process that became ready. */
export const ServerStartResultSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  /** From the spawn to the ready line (0 without a readyPattern). */
  readyAfterMs: z.number().int(),
});
export type ServerStartResult = z.infer<typeof ServerStartResultSchema>;

const stopFields = {
  /** False: skip the spec's graceful stop method and send SIGTERM at once (seed field name). */
  gracefulShutdown: z.boolean().default(true),
  /** Overrides the spec's `stopTimeoutSeconds` for this stop. */
  timeoutSeconds: z.number().int().min(1).max(3600).optional(),
};

/** `ServerStop`: graceful method, then SIGTERM, then SIGKILL; completes when it has exited. */
export const ServerStopPayloadSchema = z.object(stopFields);
export type ServerStopPayload = z.infer<typeof ServerStopPayloadSchema>;
/** Result of ServerStop: how its process ended and which step of the stop ended it. */
export const ServerStopResultSchema = z.object({
  exitCode: z.number().int().nullable(),
  exitSignal: z.string().nullable(),
  stoppedBy: z.enum(['graceful', 'SIGTERM', 'SIGKILL', 'already-stopped']),
});
export type ServerStopResult = z.infer<typeof ServerStopResultSchema>;

/** `ServerRestart`: a stop (if it runs) and a start; `spec` replaces the kept spec for the start. */
export const ServerRestartPayloadSchema = z.object({ ...stopFields, spec: ServerSpecSchema.optional() });
export type ServerRestartPayload = z.infer<typeof ServerRestartPayloadSchema>;

/** `ServerCommand`: one line to the server's console, and the lines it prints during `windowMs`. */
export const ServerCommandPayloadSchema = z.object({
  command: noNul('the command')
    .min(1)
    .max(1000)
    .refine((line) => !/[\r\n]/.test(line), 'one line, without CR or LF'),
  windowMs: z.number().int().min(0).max(30_000).default(1_000),
});
export type ServerCommandPayload = z.infer<typeof ServerCommandPayloadSchema>;
export const ServerCommandResultSchema = z.object({
  lines: z.array(z.string()),
  /** True when more lines came than the result keeps (the last ones are kept). */
  truncated: z.boolean(),
});
export type ServerCommandResult = z.infer<typeof ServerCommandResultSchema>;

/** `ServerStatus`: state and resource use of the server. */
export const ServerStatusPayloadSchema = z.object({});
export const ServerStatusResultSchema = z.object({
  serverId: z.string(),
  state: ServerStateSchema,
  pid: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  uptimeSeconds: z.number().nullable(),
  lastExitCode: z.number().int().nullable(),
  lastExitSignal: z.string().nullable(),
  restarts: z.number().int(),
  /** CPU used by the server's process group over a short sample, 100 = one core. */
  cpuPercent: z.number().nullable(),
  /** Resident memory of the server's process group (sum of VmRSS), bytes. */
  rssBytes: z.number().int().nullable(),
  processes: z.number().int().nullable(),
});
export type ServerStatusResult = z.infer<typeof ServerStatusResultSchema>;

/** `ServerLogs`: the last lines of the server's console log kept on the node. */
export const ServerLogsPayloadSchema = z.object({
  lines: z.number().int().min(1).max(5_000).default(200),
});
export type ServerLogsPayload = z.infer<typeof ServerLogsPayloadSchema>;
export const ServerLogsResultSchema = z.object({
  lines: z.array(z.string()),
  /** True when the kept log holds earlier lines than those returned, or lost some to rotation. */
  truncated: z.boolean(),
});
export type ServerLogsResult = z.infer<typeof ServerLogsResultSchema>;
