import {
  closeSync,
  fchmodSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/**
 * Small helpers for files that must survive a crash of the agent (anything written is in the
 * kernel's page cache) and, where fsync'd, a loss of power. Everything the agent keeps on disk is
 * readable by its own user only.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Replaces `path` with `content` atomically: a crash leaves the old file or the new one, never half. */
export function replaceFileDurably(path: string, content: string | Buffer): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', PRIVATE_FILE_MODE);
  try {
    // The mode of open() applies only to a new file: a leftover temporary file keeps its own.
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeAll(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dirname(path));
}

export function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset);
}

/** Makes a rename or a new file in `dir` survive a power loss. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
