import type { z } from 'zod';
import { CommandPayloadSchema, EchoPayloadSchema, HealthCheckPayloadSchema } from './basic-tasks.js';
import {
  BackupPayloadSchema,
  CustomPayloadSchema,
  FileTransferPayloadSchema,
  ModInstallPayloadSchema,
  RestorePayloadSchema,
  ServerUpdatePayloadSchema,
} from './file-tasks.js';
import {
  ServerCommandPayloadSchema,
  ServerLogsPayloadSchema,
  ServerRestartPayloadSchema,
  ServerStartPayloadSchema,
  ServerStatusPayloadSchema,
  ServerStopPayloadSchema,
} from './server-tasks.js';

/** `targetType` of a task about one server: `targetId` is the server's id. */
export const SERVER_TARGET_TYPE = 'Server';
/** `targetType` of a task about one node: `targetId` is the node's id, and the task runs there. */
export const NODE_TARGET_TYPE = 'Node';

/**
 * The payload schema of every task type the agent runs. The control plane validates a task's
 * payload with it at creation (a bad payload is a 400 naming the field) and the agent again
 * before running. A type not listed here is passed through (an agent may carry its own handlers).
 */
export const TASK_PAYLOAD_SCHEMAS = {
  Command: CommandPayloadSchema,
  HealthCheck: HealthCheckPayloadSchema,
  Echo: EchoPayloadSchema,
  ServerStart: ServerStartPayloadSchema,
  ServerStop: ServerStopPayloadSchema,
  ServerRestart: ServerRestartPayloadSchema,
  ServerCommand: ServerCommandPayloadSchema,
  ServerStatus: ServerStatusPayloadSchema,
  ServerLogs: ServerLogsPayloadSchema,
  Backup: BackupPayloadSchema,
  Restore: RestorePayloadSchema,
  ServerUpdate: ServerUpdatePayloadSchema,
  ModInstall: ModInstallPayloadSchema,
  FileTransfer: FileTransferPayloadSchema,
  Custom: CustomPayloadSchema,
} as const satisfies Record<string, z.ZodType>;

export type KnownTaskType = keyof typeof TASK_PAYLOAD_SCHEMAS;

export function payloadSchemaOf(type: string): z.ZodType | undefined {
  return Object.hasOwn(TASK_PAYLOAD_SCHEMAS, type) ? TASK_PAYLOAD_SCHEMAS[type as KnownTaskType] : undefined;
}

/** Task types that act on one server: they need `targetType: "Server"`. */
export const SERVER_TASK_TYPES: ReadonlySet<string> = new Set([
  'ServerStart',
  'ServerStop',
  'ServerRestart',
  'ServerCommand',
  'ServerStatus',
  'ServerLogs',
  'Backup',
  'Restore',
  'ServerUpdate',
  'ModInstall',
  'FileTransfer',
  'Custom',
]);
