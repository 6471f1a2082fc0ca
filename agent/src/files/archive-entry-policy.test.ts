import { describe, expect, it } from 'vitest';
import { archivePathSegments, createEntryChecker, type ArchiveEntryHeader } from './archive-entry-policy.js';

const file = (path: string, size = 1): ArchiveEntryHeader => ({ path, type: 'File', size });
const symlink = (path: string, linkpath: string): ArchiveEntryHeader => ({
  path,
  type: 'SymbolicLink',
  linkpath,
  size: 0,
});
const hardlink = (path: string, linkpath: string): ArchiveEntryHeader => ({
  path,
  type: 'Link',
  linkpath,
  size: 0,
});
const limits = { maxEntries: 100, maxBytes: 1000 };

/** The first refusal over a sequence of entries, with the entry it concerns. */
function firstRefusal(entries: ArchiveEntryHeader[], strip = 0, max = limits) {
  const checker = createEntryChecker(max, strip);
  for (const entry of entries) {
    const reason = checker.check(entry);
    if (reason !== undefined) return { path: entry.path, reason };
  }
  return undefined;
}

describe('archivePathSegments', () => {
  it.each([
    ['world/level.dat', ['world', 'level.dat']],
    ['./world//level.dat', ['world', 'level.dat']],
    ['./', []],
    ['../evil', 'has a ".." component'],
    ['a/../../evil', 'has a ".." component'],
    ['/abs/evil', 'is an absolute path'],
    ['C:/evil', 'is an absolute path'],
    ['a\0b', 'contains NUL'],
  ])('%j → %j', (path, expected) => {
    expect(archivePathSegments(path)).toEqual(expected);
  });
});

describe('createEntryChecker', () => {
  it.each<[string, ArchiveEntryHeader[], number, { path: string; reason: RegExp } | undefined]>([
    [
      'plain files and directories',
      [{ path: 'world/', type: 'Directory', size: 0 }, file('world/a')],
      0,
      undefined,
    ],
    ['a ".." entry', [file('ok'), file('../evil')], 0, { path: '../evil', reason: /"\.\." component/ }],
    ['an absolute entry', [file('/abs/evil')], 0, { path: '/abs/evil', reason: /absolute path/ }],
    ['a symlink inside', [symlink('world/latest', 'save-1.dat')], 0, undefined],
    ['a symlink up but inside', [symlink('a/b/up', '../c')], 0, undefined],
    [
      'a symlink to an absolute path',
      [symlink('out', '/tmp/x')],
      0,
      { path: 'out', reason: /absolute path "\/tmp\/x"/ },
    ],
    ['a symlink climbing out', [symlink('a/out', '../../x')], 0, { path: 'a/out', reason: /outside/ }],
    [
      'a file through a symlink',
      [symlink('inside', 'world'), file('inside/evil')],
      0,
      { path: 'inside/evil', reason: /through the symbolic link "inside"/ },
    ],
    [
      'a symlink replaced by a directory',
      [symlink('d', 'x'), { path: 'd', type: 'Directory', size: 0 }, file('d/f')],
      0,
      undefined,
    ],
    ['a hard link inside', [file('a'), hardlink('b', 'a')], 0, undefined],
    [
      'a hard link to an absolute path',
      [hardlink('b', '/etc/passwd')],
      0,
      { path: 'b', reason: /hard link/ },
    ],
    ['a hard link climbing out', [hardlink('b', '../x')], 0, { path: 'b', reason: /hard link/ }],
    ['a hard link stripped away', [hardlink('top/b', 'top')], 1, { path: 'top/b', reason: /outside/ }],
    ['a fifo', [{ path: 'p', type: 'FIFO', size: 0 }], 0, { path: 'p', reason: /FIFO/ }],
    [
      'a device',
      [{ path: 'd', type: 'CharacterDevice', size: 0 }],
      0,
      { path: 'd', reason: /CharacterDevice/ },
    ],
    [
      'an entry stripped to nothing',
      [{ path: 'top/', type: 'Directory', size: 0 }, file('top/a')],
      1,
      undefined,
    ],
    ['a ".." hidden under the stripped part', [file('../x/a')], 1, { path: '../x/a', reason: /"\.\."/ }],
  ])('%s', (_, entries, strip, expected) => {
    const refusal = firstRefusal(entries, strip);
    if (expected === undefined) expect(refusal).toBeUndefined();
    else {
      expect(refusal?.path).toBe(expected.path);
      expect(refusal?.reason).toMatch(expected.reason);
    }
  });

  it('refuses past the entry limit and the byte limit', () => {
    expect(firstRefusal([file('a'), file('b'), file('c')], 0, { maxEntries: 2, maxBytes: 1000 })).toEqual({
      path: 'c',
      reason: 'more than 2 entries',
    });
    expect(firstRefusal([file('a', 600), file('b', 600)], 0, { maxEntries: 10, maxBytes: 1000 })).toEqual({
      path: 'b',
      reason: 'more than 1000 bytes unpacked',
    });
  });

  it('counts entries and declared bytes', () => {
    const checker = createEntryChecker(limits, 0);
    checker.check(file('a', 10));
    checker.check(file('b', 5));
    expect(checker.counts()).toEqual({ entries: 2, bytes: 15 });
  });
});
