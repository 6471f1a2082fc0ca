import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recoverInterruptedSwaps, swapDirectoriesOf, swapDirectory } from './directory-swap.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'meridian-swap-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function directoryWith(path: string, content: string): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'file'), content);
}

describe('swapDirectory', () => {
  it('puts the staging directory in place and removes the old one', async () => {
    const { staging, old } = swapDirectoriesOf(root, 'alpha', randomUUID());
    directoryWith(join(root, 'alpha'), 'before');
    directoryWith(staging, 'after');
    await swapDirectory(join(root, 'alpha'), staging, old);
    expect(readFileSync(join(root, 'alpha/file'), 'utf8')).toBe('after');
    expect(readdirSync(root)).toEqual(['alpha']);
  });

  it('puts the old directory back when the staging one cannot be moved in', async () => {
    const { staging, old } = swapDirectoriesOf(root, 'alpha', randomUUID());
    directoryWith(join(root, 'alpha'), 'before');
    await expect(swapDirectory(join(root, 'alpha'), staging, old)).rejects.toThrow(/ENOENT/);
    expect(readFileSync(join(root, 'alpha/file'), 'utf8')).toBe('before');
    expect(readdirSync(root)).toEqual(['alpha']);
  });
});

describe('recoverInterruptedSwaps', () => {
  it('puts back a server directory renamed away by an agent that died mid-swap', async () => {
    const { staging, old } = swapDirectoriesOf(root, 'alpha', randomUUID());
    directoryWith(old, 'before');
    directoryWith(staging, 'half-unpacked');
    await recoverInterruptedSwaps(root, 'alpha', join(root, 'alpha'));
    expect(readFileSync(join(root, 'alpha/file'), 'utf8')).toBe('before');
    expect(readdirSync(root)).toEqual(['alpha']);
  });

  it('removes leftovers of a finished swap, and touches no other server', async () => {
    directoryWith(join(root, 'alpha'), 'current');
    directoryWith(swapDirectoriesOf(root, 'alpha', randomUUID()).old, 'stale');
    const other = swapDirectoriesOf(root, 'alpha-2', randomUUID());
    directoryWith(other.staging, 'busy');
    await recoverInterruptedSwaps(root, 'alpha', join(root, 'alpha'));
    expect(readFileSync(join(root, 'alpha/file'), 'utf8')).toBe('current');
    expect(readdirSync(root).sort()).toEqual([other.staging.slice(root.length + 1), 'alpha'].sort());
  });
});
