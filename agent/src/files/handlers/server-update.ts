import { join } from 'node:path';
import {
  ServerUpdatePayloadSchema,
  type ServerUpdatePayload,
  type TransferResult,
} from '@meridian/contracts/task-types/file-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import { downloadFile } from '../download.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { runFileTask } from '../file-task-run.js';
import { throttledProgress } from '../progress.js';
import { placeDownload } from './place-download.js';
import { unpackAndSwap } from './unpack-and-swap.js';

/**
 * `ServerUpdate`: downloads the new files (verified). `extract`: a tar.gz unpacked at `path` over
 * a copy of the server directory, which is then swapped in (the server sees the old files or the
 * new ones, never a mix). Otherwise the one file is placed at `path`.
 */
export function createServerUpdateHandler(deps: FileHandlerDeps): TaskHandler<ServerUpdatePayload> {
  return {
    type: 'ServerUpdate',
    payloadSchema: ServerUpdatePayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, { allowRunning: ctx.payload.allowRunning }, async (target) => {
        const { payload } = ctx;
        const source = { url: payload.url, headers: payload.headers, sha256: payload.sha256 };
        if (!payload.extract) {
          const placed = await placeDownload(ctx, deps, target, source, payload.path, 'payload.path');
          return { status: 'completed', result: placed };
        }
        const archive = join(ctx.dataDir, 'update.tar.gz');
        const downloaded = await downloadFile({
          ...source,
          destination: archive,
          partId: ctx.execution.executionId,
          maxBytes: deps.servers.transferMaxBytes,
          signal: ctx.signal,
          progress: throttledProgress(ctx, { label: 'downloading', from: 0, to: 50 }),
        });
        const summary = await unpackAndSwap(ctx, deps, target, {
          archive,
          overCopy: true,
          path: payload.path,
          stripComponents: payload.stripComponents,
          from: 50,
          to: 100,
        });
        const result: TransferResult = {
          path: payload.path,
          sizeBytes: downloaded.sizeBytes,
          sha256: downloaded.sha256,
          entries: summary.entries,
          resumed: downloaded.resumed,
        };
        ctx.logger.info({ serverId: target.serverId, ...result }, 'server updated');
        return { status: 'completed', result };
      }),
  };
}
