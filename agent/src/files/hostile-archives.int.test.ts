import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackArchive } from './archive-extract.js';
import { FileTaskError } from './file-task-error.js';
import { buildTarGz, type RawEntry } from './testing/tar-builder.js';

// Each case has its own directory: `root` is where the archive is unpacked; everything else in
// `base`, and a second directory elsewhere in /tmp, must stay as it was.
let base: string;
let root: string;
let elsewhere: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'meridian-hostile-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'meridian-elsewhere-'));
  root = join(base, 'root');
  mkdirSync(root);
  writeFileSync(join(base, 'secret.txt'), 'untouched');
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

const limits = { maxEntries: 1000, maxBytes: 1024 * 1024 };

async function unpack(entries: RawEntry[], stripComponents = 0) {
  const file = join(base, 'archive.tar.gz');
  writeFileSync(file, buildTarGz(entries));
  return unpackArchive(file, root, { ...limits, stripComponents, signal: new AbortController().signal });
}

async function refusedWith(entries: RawEntry[], message: RegExp, stripComponents = 0) {
  const error = await unpack(entries, stripComponents).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(FileTaskError);
  expect((error as FileTaskError).retryable).toBe(false);
  expect((error as FileTaskError).message).toMatch(message);
  // Nothing at all was written: the archive is refused before unpacking.
  expect(readdirSync(root)).toEqual([]);
  expect(readdirSync(base).sort()).toEqual(['archive.tar.gz', 'root', 'secret.txt']);
  expect(readFileSync(join(base, 'secret.txt'), 'utf8')).toBe('untouched');
  expect(readdirSync(elsewhere)).toEqual([]);
}

describe('hostile archives', () => {
  it('unpacks an honest archive, links inside included', async () => {
    const summary = await unpack([
      { path: 'world/', type: 'Directory' },
      { path: 'world/level.dat', body: 'level' },
      { path: 'world/latest', type: 'SymbolicLink', linkpath: 'level.dat' },
      { path: 'copy.dat', type: 'Link', linkpath: 'world/level.dat' },
    ]);
    expect(summary.entries).toBe(4);
    expect(readFileSync(join(root, 'world/latest'), 'utf8')).toBe('level');
    expect(readFileSync(join(root, 'copy.dat'), 'utf8')).toBe('level');
  });

  it('refuses "../evil"', async () => {
    await refusedWith(
      [
        { path: 'ok.txt', body: 'ok' },
        { path: '../evil', body: 'evil' },
      ],
      /"\.\.\/evil" has a "\.\." component/,
    );
    expect(existsSync(join(base, 'evil'))).toBe(false);
  });

  it('refuses an absolute path', async () => {
    const target = join(elsewhere, 'evil');
    await refusedWith([{ path: target, body: 'evil' }], /is an absolute path/);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a symbolic link out of the root, and a file written through it', async () => {
    await refusedWith(
      [
        { path: 'link', type: 'SymbolicLink', linkpath: elsewhere },
        { path: 'link/evil', body: 'evil' },
      ],
      /"link" is a symbolic link to the absolute path/,
    );
    expect(existsSync(join(elsewhere, 'evil'))).toBe(false);
  });

  it('refuses a relative symbolic link climbing out of the root', async () => {
    await refusedWith(
      [
        { path: 'world/up', type: 'SymbolicLink', linkpath: '../../' },
        { path: 'world/up/evil', body: 'evil' },
      ],
      /outside the extraction root/,
    );
    expect(existsSync(join(base, 'evil'))).toBe(false);
  });

  it('refuses a hard link to a file outside, and a write through it', async () => {
    await refusedWith(
      [
        { path: 'secret', type: 'Link', linkpath: '../secret.txt' },
        { path: 'secret', body: 'overwritten' },
      ],
      /hard link/,
    );
  });

  it('refuses a hard link to an absolute path', async () => {
    await refusedWith([{ path: 'passwd', type: 'Link', linkpath: join(base, 'secret.txt') }], /hard link/);
  });

  it('refuses a device and a fifo', async () => {
    await refusedWith([{ path: 'null', type: 'CharacterDevice' }], /CharacterDevice/);
    await refusedWith([{ path: 'pipe', type: 'FIFO' }], /FIFO/);
  });

  it('refuses more entries, or more bytes, than the limits', async () => {
    const file = join(base, 'archive.tar.gz');
    writeFileSync(
      file,
      buildTarGz([
        { path: 'a', body: randomBytes(2000) },
        { path: 'b', body: 'b' },
      ]),
    );
    const signal = new AbortController().signal;
    await expect(
      unpackArchive(file, root, { maxEntries: 1, maxBytes: 1e6, stripComponents: 0, signal }),
    ).rejects.toThrow(/more than 1 entries/);
    await expect(
      unpackArchive(file, root, { maxEntries: 10, maxBytes: 1000, stripComponents: 0, signal }),
    ).rejects.toThrow(/more than 1000 bytes/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses a file that is not an archive', async () => {
    const file = join(base, 'archive.tar.gz');
    writeFileSync(file, 'not a tar at all, just text that goes on for a while '.repeat(40));
    await expect(
      unpackArchive(file, root, { ...limits, stripComponents: 0, signal: new AbortController().signal }),
    ).rejects.toThrow(/not a valid tar.gz archive/);
    expect(readdirSync(root)).toEqual([]);
  });
});
