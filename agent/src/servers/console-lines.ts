import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A result's lines stay under this many bytes (the end report carries them). */
export const RESULT_LINES_MAX_BYTES = 60 * 1024;

export interface BoundedLines {
  lines: string[];
  truncated: boolean;
}

/**
 * The last `count` lines of `lines`, fewer when they would exceed `maxBytes` together (the
 * latest lines are kept); `truncated` when earlier lines were left out.
 */
export function keepLastLines(
  lines: readonly string[],
  count: number,
  maxBytes = RESULT_LINES_MAX_BYTES,
  earlierLeftOut = false,
): BoundedLines {
  const kept: string[] = [];
  let bytes = 0;
  for (let index = lines.length - 1; index >= 0 && kept.length < count; index--) {
    const line = lines[index] as string;
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept.push(line);
  }
  return { lines: kept.reverse(), truncated: earlierLeftOut || kept.length < lines.length };
}

/**
 * The last lines of a console log kept as `previous` (rotated) then `current`: reads only the
 * tail that can matter (a bit more than `maxBytes`), so that the size of the log does not.
 */
export function readLastLines(
  paths: { previous: string; current: string },
  count: number,
  maxBytes = RESULT_LINES_MAX_BYTES,
): BoundedLines {
  const wanted = maxBytes + 1;
  const current = readTail(paths.current, wanted);
  const previous =
    current.bytes.length < wanted ? readTail(paths.previous, wanted - current.bytes.length) : undefined;
  const bytes = Buffer.concat([previous?.bytes ?? Buffer.alloc(0), current.bytes]);
  const cutShort = current.cut || (previous?.cut ?? false);
  let text = bytes.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text === '') return { lines: [], truncated: cutShort };
  const lines = text.split('\n');
  // The first line read may be the end of a longer one.
  if (cutShort) lines.shift();
  return keepLastLines(lines, count, maxBytes, cutShort);
}

function readTail(path: string, maxBytes: number): { bytes: Buffer; cut: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { bytes: Buffer.alloc(0), cut: false };
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const bytes = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, bytes, read, length - read, size - length + read);
      if (n === 0) break;
      read += n;
    }
    return { bytes: bytes.subarray(0, read), cut: size > length };
  } finally {
    closeSync(fd);
  }
}
