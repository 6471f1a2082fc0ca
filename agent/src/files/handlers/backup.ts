import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BackupPayloadSchema,
  type BackupPayload,
  type BackupResult,
} from '@meridian/contracts/task-types/file-tasks';
import type { HandlerContext, TaskHandler } from '../../handlers/handler.js';
import { createArchive, type CreatedArchive } from '../archive-create.js';
import { backupIdOf } from '../backup-id.js';
import { decidePrune } from '../backup-prune.js';
import { BackupStore } from '../backups-store.js';
import { directoryBytes } from '../directory-size.js';
import { excludeMatcher } from '../exclude-matcher.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { refusal } from '../file-task-error.js';
import { runFileTask, type FileTaskTarget } from '../file-task-run.js';
import { throttledProgress } from '../progress.js';
import { uploadFile } from '../upload.js';

/**
 * `Backup`: a tar.gz of the server directory (minus `exclude`), kept in the node's backups
 * directory (written under a temporary name, then renamed) or PUT to `upload` and not kept. Then
 * `retentionDays` / `keepLast` prune the server's local backups, never the new one.
 */
export function createBackupHandler(deps: FileHandlerDeps): TaskHandler<BackupPayload> {
  const store = new BackupStore(deps.servers.backupsDir);
  return {
    type: 'Backup',
    payloadSchema: BackupPayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, { allowRunning: ctx.payload.allowRunning }, async (target) => {
        const upload = ctx.payload.upload;
        if (!existsSync(target.directory))
          throw refusal(`server ${target.serverId} has no directory on this node`);
        if (!upload) store.removeLeftovers(target.serverId);
        const createdAt = new Date();
        const backupId = backupIdOf(createdAt, randomBytes(4).toString('hex'));
        const archivePath = upload
          ? join(ctx.dataDir, `${backupId}.tar.gz`)
          : store.temporaryArchiveOf(target.serverId, backupId);
        try {
          const archive = await archiveServer(ctx, deps, target, archivePath, upload ? 70 : 100);
          if (upload) {
            await uploadFile({
              ...upload,
              file: archivePath,
              name: 'the backup archive',
              maxBytes: deps.servers.transferMaxBytes,
              signal: ctx.signal,
              progress: throttledProgress(ctx, { label: 'uploading', from: 70, to: 100 }),
            });
          } else {
            store.commit(target.serverId, archivePath, {
              backupId,
              ...archive,
              createdAt: createdAt.toISOString(),
            });
          }
          const pruned = prune(store, target.serverId, ctx.payload, upload ? undefined : backupId);
          const result: BackupResult = {
            backupId,
            ...archive,
            location: upload ? 'uploaded' : 'local',
            pruned,
          };
          ctx.logger.info(
            { serverId: target.serverId, backupId, sizeBytes: archive.sizeBytes },
            'backup made',
          );
          return { status: 'completed', result };
        } finally {
          // Gone once renamed into place; otherwise (upload, failure, abort) removed here.
          await rm(archivePath, { force: true });
        }
      }),
  };
}

async function archiveServer(
  ctx: HandlerContext<BackupPayload>,
  deps: FileHandlerDeps,
  target: FileTaskTarget,
  destination: string,
  upTo: number,
): Promise<CreatedArchive> {
  const total = await directoryBytes(target.directory, excludeMatcher(ctx.payload.exclude));
  const progress = throttledProgress(ctx, { label: 'archiving', from: 0, to: upTo });
  let done = 0;
  return createArchive({
    sourceDir: target.directory,
    destination,
    exclude: ctx.payload.exclude,
    maxBytes: deps.servers.transferMaxBytes,
    signal: ctx.signal,
    onEntry: (bytes) => {
      done += bytes;
      progress.update(done, total);
    },
  });
}

function prune(
  store: BackupStore,
  serverId: string,
  payload: BackupPayload,
  keep: string | undefined,
): string[] {
  if (payload.keepLast === undefined && payload.retentionDays === undefined) return [];
  const backups = store.list(serverId).map((record) => ({
    backupId: record.backupId,
    createdAt: new Date(record.createdAt),
  }));
  const doomed = decidePrune(backups, {
    ...(payload.keepLast === undefined ? {} : { keepLast: payload.keepLast }),
    ...(payload.retentionDays === undefined ? {} : { retentionDays: payload.retentionDays }),
    ...(keep === undefined ? {} : { keep }),
    now: new Date(),
  });
  for (const backupId of doomed) store.remove(serverId, backupId);
  return doomed;
}
