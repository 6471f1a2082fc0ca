import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  realpathSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isInsideDirectory, prepareWorkingDirectory } from './working-directory.js';

describe('isInsideDirectory', () => {
  it.each([
    ['/srv/a', '/srv/a', true],
    ['/srv/a', '/srv/a/b/c', true],
    ['/srv/a', '/srv/a/..b', true],
    ['/srv/a', '/srv/a..b', false],
    ['/srv/a', '/srv/ab', false],
    ['/srv/a', '/srv', false],
    ['/srv/a', '/etc/passwd', false],
    ['/srv/a', '/srv/a/../b', false],
  ])('%s contains %s: %s', (parent, child, inside) => {
    expect(isInsideDirectory(parent, child)).toBe(inside);
  });
});

describe('prepareWorkingDirectory', () => {
  const dirs: string[] = [];
  const temporary = () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'meridian-wd-')));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the server directory and the working directory inside it', () => {
    const root = temporary();
    const serverDir = join(root, 'srv-1');
    expect(prepareWorkingDirectory(serverDir, '.')).toBe(serverDir);
    expect(prepareWorkingDirectory(serverDir, 'game/bin')).toBe(join(serverDir, 'game', 'bin'));
    expect(existsSync(join(serverDir, 'game', 'bin'))).toBe(true);
  });

  it('follows a symbolic link that stays inside', () => {
    const serverDir = join(temporary(), 'srv');
    mkdirSync(join(serverDir, 'real'), { recursive: true });
    symlinkSync(join(serverDir, 'real'), join(serverDir, 'link'));
    expect(prepareWorkingDirectory(serverDir, 'link/sub')).toBe(join(serverDir, 'real', 'sub'));
  });

  it('refuses a symbolic link leading out, creating nothing through it', () => {
    const outside = temporary();
    const serverDir = join(temporary(), 'srv');
    mkdirSync(serverDir);
    symlinkSync(outside, join(serverDir, 'escape'));
    expect(() => prepareWorkingDirectory(serverDir, 'escape/sub')).toThrow(
      /spec.workingDirectory "escape\/sub" leaves the server directory/,
    );
    expect(existsSync(join(outside, 'sub'))).toBe(false);
  });

  it('refuses a ".." segment and a file in the way', () => {
    const serverDir = join(temporary(), 'srv');
    expect(() => prepareWorkingDirectory(serverDir, 'a/../../b')).toThrow(/"\.\." segment/);
    writeFileSync(join(serverDir, 'file'), '');
    expect(() => prepareWorkingDirectory(serverDir, 'file')).toThrow(/is not a directory/);
  });
});
