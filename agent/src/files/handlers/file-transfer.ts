import {
  FileTransferPayloadSchema,
  type FileTransferPayload,
  type TransferResult,
} from '@meridian/contracts/task-types/file-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { runFileTask } from '../file-task-run.js';
import { throttledProgress } from '../progress.js';
import { pathSegments, resolveInside } from '../safe-path.js';
import { uploadFile } from '../upload.js';
import { placeDownload } from './place-download.js';

/**
 * `FileTransfer`: one file downloaded into the server directory (verified, placed atomically) or
 * uploaded from it with HTTP PUT (a regular file inside the directory, not reached through a
 * symbolic link leaving it).
 */
export function createFileTransferHandler(deps: FileHandlerDeps): TaskHandler<FileTransferPayload> {
  return {
    type: 'FileTransfer',
    payloadSchema: FileTransferPayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, {}, async (target) => {
        const { payload } = ctx;
        if (payload.direction === 'download') {
          const source = { url: payload.url, headers: payload.headers, sha256: payload.sha256 };
          const placed = await placeDownload(ctx, deps, target, source, payload.path, 'payload.path');
          return { status: 'completed', result: placed };
        }
        const path = pathSegments(payload.path, 'payload.path').join('/');
        const sent = await uploadFile({
          url: payload.url,
          headers: payload.headers,
          file: resolveInside(target.directory, path, 'payload.path'),
          name: `payload.path "${path}"`,
          maxBytes: deps.servers.transferMaxBytes,
          signal: ctx.signal,
          progress: throttledProgress(ctx, { label: 'uploading', from: 0, to: 100 }),
        });
        const result: TransferResult = { path, ...sent };
        ctx.logger.info({ serverId: target.serverId, ...result }, 'file uploaded');
        return { status: 'completed', result };
      }),
  };
}
