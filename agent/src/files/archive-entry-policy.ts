import { posix } from 'node:path';

/*
 * What an archive may contain before any of it is unpacked: regular files, directories, and links
 * that stay inside the extraction root. The whole archive is refused on the first entry that is
 * not, so a hostile archive writes nothing at all.
 */

/** The header of one entry, as node-tar reads it (path and linkpath exactly as stored). */
export interface ArchiveEntryHeader {
  path: string;
  type: string;
  linkpath?: string;
  size: number;
}

export interface ArchiveLimits {
  maxEntries: number;
  /** Declared bytes of all entries together. */
  maxBytes: number;
}

const CONTENT_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);
const LINK_TYPES = new Set(['SymbolicLink', 'Link']);

/** The segments of an archive path, "." and empty ones dropped; a reason when it could leave the root. */
export function archivePathSegments(path: string): string[] | string {
  if (path.includes('\0')) return 'contains NUL';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is an absolute path';
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return 'has a ".." component';
  return segments;
}

/**
 * A checker for the entries of one archive, in order. `check` returns why the entry (and so the
 * archive) is refused, or undefined. It remembers the symbolic links seen, to refuse an entry
 * written through one, and counts entries and bytes against the limits.
 */
export function createEntryChecker(limits: ArchiveLimits, stripComponents: number) {
  const symlinks = new Set<string>();
  let entries = 0;
  let unpacked = 0;
  let bytes = 0;

  function check(entry: ArchiveEntryHeader): string | undefined {
    entries++;
    bytes += entry.size;
    if (entries > limits.maxEntries) return `more than ${limits.maxEntries} entries`;
    if (bytes > limits.maxBytes) return `more than ${limits.maxBytes} bytes unpacked`;
    if (!CONTENT_TYPES.has(entry.type) && !LINK_TYPES.has(entry.type))
      return `is a ${entry.type}: only files, directories and links are unpacked`;

    const segments = archivePathSegments(entry.path);
    if (typeof segments === 'string') return segments;
    const kept = segments.slice(stripComponents);
    if (kept.length === 0) return undefined;
    unpacked++;
    for (let length = 1; length < kept.length; length++) {
      const prefix = kept.slice(0, length).join('/');
      if (symlinks.has(prefix)) return `is written through the symbolic link "${prefix}"`;
    }
    const path = kept.join('/');
    if (entry.type === 'SymbolicLink') {
      const reason = checkSymlinkTarget(path, entry.linkpath ?? '');
      if (reason !== undefined) return reason;
      symlinks.add(path);
    } else {
      // A file or directory entry replaces an earlier link of the same name.
      symlinks.delete(path);
    }
    if (entry.type === 'Link') return checkHardlinkTarget(entry.linkpath ?? '', stripComponents);
    return undefined;
  }

  /** Entries unpacked (an entry stripped to nothing, like the top "./", is not) and the declared bytes of all. */
  return { check, counts: () => ({ entries: unpacked, bytes }) };
}

function checkSymlinkTarget(path: string, target: string): string | undefined {
  if (target === '' || target.includes('\0')) return 'is a symbolic link without a valid target';
  if (target.startsWith('/')) return `is a symbolic link to the absolute path "${target}"`;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../'))
    return `is a symbolic link to "${target}", outside the extraction root`;
  return undefined;
}

/** A hard link's target is a path from the archive's root (node-tar strips it like the entry's). */
function checkHardlinkTarget(target: string, stripComponents: number): string | undefined {
  const segments = archivePathSegments(target);
  if (typeof segments === 'string') return `is a hard link whose target "${target}" ${segments}`;
  if (segments.length <= stripComponents) return `is a hard link to "${target}", outside the extraction root`;
  return undefined;
}
