import { gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';

/*
 * Builds a tar.gz byte by byte from headers given as they are, so that tests can make the
 * archives no honest tool writes: "../evil", "/abs/evil", links out of the root, devices.
 */

export interface RawEntry {
  path: string;
  type?: NonNullable<HeaderData['type']>;
  body?: string | Buffer;
  linkpath?: string;
}

const BLOCK = 512;

export function buildTarGz(entries: readonly RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
    const type = entry.type ?? 'File';
    const header = new Header({
      path: entry.path,
      type,
      size: body.length,
      mode: type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
    });
    const block = Buffer.alloc(BLOCK);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks));
}
