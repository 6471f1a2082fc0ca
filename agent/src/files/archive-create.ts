import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { create, type ReadEntry } from 'tar';
import type { Stats } from 'node:fs';
import { refusal } from './file-task-error.js';
import { excludeMatcher } from './exclude-matcher.js';

export interface CreatedArchive {
  sizeBytes: number;
  sha256: string;
  /** Files, directories and links archived (the directory itself not counted). */
  entries: number;
}

export interface CreateArchiveOptions {
  /** The directory archived; entries are stored relative to it ("./world/level.dat"). */
  sourceDir: string;
  /** A new file (must not exist); left for the caller to rename or remove. */
  destination: string;
  exclude: readonly string[];
  maxBytes: number;
  signal: AbortSignal;
  /** Called with the bytes of each file as it is added. */
  onEntry?: (bytes: number) => void;
}

/**
 * Writes a portable tar.gz of a directory (no owners, no absolute paths, symbolic links stored as
 * links and never followed), hashing it as it is written. Refuses an archive past `maxBytes`.
 */
export async function createArchive(options: CreateArchiveOptions): Promise<CreatedArchive> {
  const isExcluded = excludeMatcher(options.exclude);
  let entries = 0;
  const pack = create(
    {
      gzip: true,
      cwd: options.sourceDir,
      portable: true,
      filter: (path: string, _stat: Stats | ReadEntry) => {
        const relative = path.replace(/^\.\/?/, '');
        return relative === '' || !isExcluded(relative);
      },
      onWriteEntry: (entry) => {
        if (entry.path.replace(/^\.\/?/, '') === '') return;
        entries++;
        options.onEntry?.(entry.stat?.isFile() ? entry.stat.size : 0);
      },
    },
    ['.'],
  );
  const file = await open(
    options.destination,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  const hash = createHash('sha256');
  let sizeBytes = 0;
  try {
    for await (const chunk of pack) {
      options.signal.throwIfAborted();
      sizeBytes += chunk.length;
      if (sizeBytes > options.maxBytes)
        throw refusal(`the archive grew past the limit of ${options.maxBytes} bytes`);
      hash.update(chunk);
      await file.write(chunk);
    }
    await file.datasync();
  } catch (error) {
    pack.destroy();
    throw error;
  } finally {
    await file.close();
  }
  return { sizeBytes, sha256: hash.digest('hex'), entries };
}
