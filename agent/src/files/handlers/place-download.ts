import { lstatSync } from 'node:fs';
import { posix } from 'node:path';
import type { TransferResult } from '@meridian/contracts/task-types/file-tasks';
import type { HandlerContext } from '../../handlers/handler.js';
import { downloadFile } from '../download.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { refusal } from '../file-task-error.js';
import type { FileTaskTarget } from '../file-task-run.js';
import { throttledProgress } from '../progress.js';
import { ensureDirectoryInside, pathSegments, resolveInside } from '../safe-path.js';

export interface DownloadSource {
  url: string;
  headers: Record<string, string>;
  sha256: string;
}

/**
 * Downloads one file to `path` inside the server directory (its directories created), verified
 * and renamed into place: the old file, if any, is replaced whole or not at all. `field` names
 * the payload field the path came from, for errors.
 */
export async function placeDownload(
  ctx: HandlerContext<unknown>,
  deps: FileHandlerDeps,
  target: FileTaskTarget,
  source: DownloadSource,
  path: string,
  field: string,
): Promise<TransferResult> {
  const segments = pathSegments(path, field);
  if (segments.length === 0) throw refusal(`${field} must name a file, not the server directory`);
  const normalised = segments.join('/');
  ensureDirectoryInside(target.directory, posix.dirname(normalised), field);
  const destination = resolveInside(target.directory, normalised, field);
  if (isDirectory(destination)) throw refusal(`${field} "${normalised}" is a directory`);
  const downloaded = await downloadFile({
    ...source,
    destination,
    partId: ctx.execution.executionId,
    maxBytes: deps.servers.transferMaxBytes,
    signal: ctx.signal,
    progress: throttledProgress(ctx, { label: 'downloading', from: 0, to: 100 }),
  });
  ctx.logger.info(
    { serverId: target.serverId, path: normalised, sizeBytes: downloaded.sizeBytes },
    'file placed',
  );
  return { path: normalised, ...downloaded };
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
