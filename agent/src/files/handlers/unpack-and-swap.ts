import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { HandlerContext } from '../../handlers/handler.js';
import { unpackArchive } from '../archive-extract.js';
import type { ArchiveSummary } from '../archive-inspect.js';
import { swapDirectoriesOf, swapDirectory } from '../directory-swap.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import type { FileTaskTarget } from '../file-task-run.js';
import { ensureDirectoryInside } from '../safe-path.js';
import { throttledProgress } from '../progress.js';

export interface UnpackAndSwapOptions {
  archive: string;
  /** Start from a copy of the current server directory (an update) rather than an empty one (a restore). */
  overCopy: boolean;
  /** Where in the server directory the archive is unpacked ("." for its top). */
  path: string;
  stripComponents: number;
  /** The percent span this phase covers. */
  from: number;
  to: number;
}

/**
 * Unpacks an archive into a staging directory beside the server directory (empty, or a copy of
 * it with links kept as links), then swaps it in. The staging directory is removed on failure or
 * abort, and the server directory stays as it was.
 */
export async function unpackAndSwap(
  ctx: HandlerContext<unknown>,
  deps: FileHandlerDeps,
  target: FileTaskTarget,
  options: UnpackAndSwapOptions,
): Promise<ArchiveSummary> {
  const { staging, old } = swapDirectoriesOf(target.root, target.serverId, ctx.execution.executionId);
  mkdirSync(target.root, { recursive: true });
  await rm(staging, { recursive: true, force: true });
  try {
    if (options.overCopy && existsSync(target.directory)) {
      cpSync(target.directory, staging, {
        recursive: true,
        verbatimSymlinks: true,
        preserveTimestamps: true,
      });
    } else {
      mkdirSync(staging);
    }
    const into = ensureDirectoryInside(staging, options.path, 'payload.path');
    const progress = throttledProgress(ctx, {
      label: 'unpacking',
      from: options.from,
      to: options.to,
    });
    const summary = await unpackArchive(options.archive, into, {
      maxEntries: deps.servers.extractMaxEntries,
      maxBytes: deps.servers.extractMaxBytes,
      stripComponents: options.stripComponents,
      signal: ctx.signal,
      onProgress: (done, total) => progress.update(done, total),
    });
    ctx.signal.throwIfAborted();
    await swapDirectory(target.directory, staging, old);
    return summary;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
