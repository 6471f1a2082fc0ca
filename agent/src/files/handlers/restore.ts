import { join } from 'node:path';
import {
  RestorePayloadSchema,
  type RestorePayload,
  type RestoreResult,
} from '@meridian/contracts/task-types/file-tasks';
import type { HandlerContext, TaskHandler } from '../../handlers/handler.js';
import { BackupStore } from '../backups-store.js';
import { downloadFile } from '../download.js';
import { checksumOf } from '../file-checksum.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { refusal } from '../file-task-error.js';
import { runFileTask, type FileTaskTarget } from '../file-task-run.js';
import { throttledProgress } from '../progress.js';
import { unpackAndSwap } from './unpack-and-swap.js';

/**
 * `Restore`: a local backup (checked against the checksum recorded when it was made, and the
 * payload's if given) or a downloaded archive (checked against the payload's), inspected,
 * unpacked into a fresh directory and swapped in for the server directory.
 */
export function createRestoreHandler(deps: FileHandlerDeps): TaskHandler<RestorePayload> {
  const store = new BackupStore(deps.servers.backupsDir);
  return {
    type: 'Restore',
    payloadSchema: RestorePayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, { allowRunning: ctx.payload.allowRunning }, async (target) => {
        const archive = await obtainArchive(ctx, deps, store, target);
        const summary = await unpackAndSwap(ctx, deps, target, {
          archive: archive.path,
          overCopy: false,
          path: '.',
          stripComponents: 0,
          from: 50,
          to: 100,
        });
        const result: RestoreResult = {
          sizeBytes: archive.sizeBytes,
          sha256: archive.sha256,
          entries: summary.entries,
        };
        ctx.logger.info({ serverId: target.serverId, ...result }, 'server directory restored');
        return { status: 'completed', result };
      }),
  };
}

async function obtainArchive(
  ctx: HandlerContext<RestorePayload>,
  deps: FileHandlerDeps,
  store: BackupStore,
  target: FileTaskTarget,
): Promise<{ path: string; sizeBytes: number; sha256: string }> {
  const { payload } = ctx;
  if (payload.backupId !== undefined) {
    const record = store.read(target.serverId, payload.backupId);
    if (payload.sha256 !== undefined && payload.sha256 !== record.sha256) {
      throw refusal(
        `payload.sha256 ${payload.sha256} is not the checksum of backup ${payload.backupId} (${record.sha256})`,
      );
    }
    const path = store.archiveOf(target.serverId, payload.backupId);
    ctx.reportProgress(0, 'verifying the backup');
    const actual = await checksumOf(path, ctx.signal);
    if (actual.sha256 !== record.sha256) {
      throw refusal(
        `backup ${payload.backupId} is damaged: its SHA-256 is ${actual.sha256}, ${record.sha256} was recorded`,
      );
    }
    return { path, ...actual };
  }
  if (payload.url === undefined || payload.sha256 === undefined)
    throw refusal('payload: give "backupId", or "url" with "sha256"');
  const path = join(ctx.dataDir, 'restore.tar.gz');
  const downloaded = await downloadFile({
    url: payload.url,
    headers: payload.headers,
    sha256: payload.sha256,
    destination: path,
    partId: ctx.execution.executionId,
    maxBytes: deps.servers.transferMaxBytes,
    signal: ctx.signal,
    progress: throttledProgress(ctx, { label: 'downloading', from: 0, to: 50 }),
  });
  return { path, ...downloaded };
}
