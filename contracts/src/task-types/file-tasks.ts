import { z } from 'zod';
import {
  EnvironmentSchema,
  FileNameSchema,
  noNul,
  RelativePathSchema,
  Sha256Schema,
  TransferHeadersSchema,
  TransferUrlSchema,
} from './common.js';

/*
 * Payloads and results of the tasks that move a server's files: backups, restores, updates, mods,
 * transfers and custom scripts. All target one server (`targetType: "Server"`); every path is
 * relative to the server's directory and never leaves it.
 */

/** A backup's id on its node: the archive's file name without its extension. */
export const BackupIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a backup id as returned by a Backup task');

/** Where a transfer goes: a URL (a presigned URL of a files service) and extra request headers. */
export const TransferTargetSchema = z.object({
  url: TransferUrlSchema,
  headers: TransferHeadersSchema.default({}),
});

/** Glob patterns (picomatch syntax, relative to the server directory) of files left out. */
const ExcludeSchema = z.array(z.string().min(1).max(500)).max(100).default([]);

/** `Backup`: a tar.gz of the server directory, kept on the node or uploaded with HTTP PUT. */
export const BackupPayloadSchema = z.object({
  exclude: ExcludeSchema,
  /** A backup of a running server may catch files mid-write: allowed only when asked for. */
  allowRunning: z.boolean().default(false),
  /** Upload the archive here (HTTP PUT) instead of keeping it in the node's backups directory. */
  upload: TransferTargetSchema.optional(),
  /** After the backup, delete this server's local backups older than this. */
  retentionDays: z.number().int().min(1).max(3650).optional(),
  /** After the backup, keep only this many of this server's local backups (newest first). */
  keepLast: z.number().int().min(1).max(1000).optional(),
});
export type BackupPayload = z.infer<typeof BackupPayloadSchema>;
export const BackupResultSchema = z.object({
  backupId: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  /** Files and directories archived. */
  entries: z.number().int(),
  /** `local` (the node's backups directory) or `uploaded`. */
  location: z.enum(['local', 'uploaded']),
  /** Local backups deleted by `retentionDays` / `keepLast`. */
  pruned: z.array(z.string()),
});
export type BackupResult = z.infer<typeof BackupResultSchema>;

/** `Restore`: a backup (local id, or a URL with its checksum) unpacked and swapped in for the server directory. */
export const RestorePayloadSchema = z
  .object({
    backupId: BackupIdSchema.optional(),
    url: TransferUrlSchema.optional(),
    headers: TransferHeadersSchema.default({}),
    /** Required with `url`; with `backupId`, checked against the checksum recorded at backup. */
    sha256: Sha256Schema.optional(),
    allowRunning: z.boolean().default(false),
  })
  .superRefine((payload, ctx) => {
    if ((payload.backupId === undefined) === (payload.url === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['backupId'],
        message: 'give exactly one of "backupId" or "url"',
      });
    if (payload.url !== undefined && payload.sha256 === undefined)
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'required with "url"' });
  });
export type RestorePayload = z.infer<typeof RestorePayloadSchema>;
export const RestoreResultSchema = z.object({
  sizeBytes: z.number().int(),
  sha256: z.string(),
  entries: z.number().int(),
});
export type RestoreResult = z.infer<typeof RestoreResultSchema>;

const downloadFields = {
  url: TransferUrlSchema,
  headers: TransferHeadersSchema.default({}),
  /** The download is refused (and removed) when its SHA-256 differs. */
  sha256: Sha256Schema,
};

/**
 * `ServerUpdate`: downloads the new files. `extract: true` (a .tar.gz) unpacks them over a copy of
 * the server directory at `path` and swaps the copy in; `extract: false` places the one file at
 * `path`. Refused while the server runs unless `allowRunning`.
 */
export const ServerUpdatePayloadSchema = z.object({
  ...downloadFields,
  extract: z.boolean().default(true),
  /** Where in the server directory: the directory to unpack into, or the file to write. */
  path: RelativePathSchema.default('.'),
  /** Leading path components dropped from the archive's entries (like `tar --strip-components`). */
  stripComponents: z.number().int().min(0).max(10).default(0),
  allowRunning: z.boolean().default(false),
});
export type ServerUpdatePayload = z.infer<typeof ServerUpdatePayloadSchema>;

/** `ModInstall`: one file (a plugin or mod) downloaded into a directory of the server. */
export const ModInstallPayloadSchema = z.object({
  ...downloadFields,
  fileName: FileNameSchema,
  directory: RelativePathSchema.default('plugins'),
});
export type ModInstallPayload = z.infer<typeof ModInstallPayloadSchema>;

/** `FileTransfer`: one file downloaded into, or uploaded from, the server directory. */
export const FileTransferPayloadSchema = z.discriminatedUnion('direction', [
  z.object({ direction: z.literal('download'), ...downloadFields, path: RelativePathSchema }),
  z.object({
    direction: z.literal('upload'),
    url: TransferUrlSchema,
    headers: TransferHeadersSchema.default({}),
    path: RelativePathSchema,
  }),
]);
export type FileTransferPayload = z.infer<typeof FileTransferPayloadSchema>;

/** Result of ServerUpdate, ModInstall and FileTransfer. */
export const TransferResultSchema = z.object({
  /** Where the file went or came from, relative to the server directory. */
  path: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  /** Entries unpacked (ServerUpdate with `extract`). */
  entries: z.number().int().optional(),
  /** True when an interrupted download went on from where it stopped (HTTP Range). */
  resumed: z.boolean().optional(),
});
export type TransferResult = z.infer<typeof TransferResultSchema>;

/** `Custom`: a user-defined shell script run with `/bin/sh -c` in the server's directory, like a Command. */
export const CustomPayloadSchema = z.object({
  script: noNul('the script').min(1).max(65_536),
  env: EnvironmentSchema.optional(),
  timeoutSeconds: z.number().int().min(1).optional(),
});
export type CustomPayload = z.infer<typeof CustomPayloadSchema>;
