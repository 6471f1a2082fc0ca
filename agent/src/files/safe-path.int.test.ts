import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDirectoryInside, resolveInside } from './safe-path.js';

let base: string;
let root: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'meridian-safe-path-'));
  root = join(base, 'alpha');
  mkdirSync(join(root, 'world'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  symlinkSync('world', join(root, 'current'));
  symlinkSync(join(base, 'outside'), join(root, 'escape'));
  symlinkSync('../outside', join(root, 'climb'));
  symlinkSync(join(base, 'nowhere'), join(root, 'dangling'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('resolveInside', () => {
  it.each([
    ['world/level.dat', 'world/level.dat'],
    ['current/level.dat', 'current/level.dat'],
    ['new/dir/file', 'new/dir/file'],
    ['.', ''],
  ])('accepts %j', (path, expected) => {
    expect(resolveInside(root, path, 'payload.path')).toBe(join(root, expected));
  });

  it.each(['escape/file', 'climb/file', 'dangling/file', 'escape', 'dangling'])(
    'refuses %j, which leaves through a symbolic link',
    (path) => {
      expect(() => resolveInside(root, path, 'payload.path')).toThrow(/payload\.path .* symbolic link/);
    },
  );
});

describe('ensureDirectoryInside', () => {
  it('creates the directories, and nothing through a link out', () => {
    expect(ensureDirectoryInside(root, 'plugins/config', 'payload.directory')).toBe(
      join(root, 'plugins/config'),
    );
    expect(existsSync(join(root, 'plugins/config'))).toBe(true);
    expect(() => ensureDirectoryInside(root, 'escape/plugins', 'payload.directory')).toThrow(/symbolic link/);
    expect(existsSync(join(base, 'outside/plugins'))).toBe(false);
  });
});
