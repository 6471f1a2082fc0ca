import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keepLastLines, readLastLines } from './console-lines.js';

describe('keepLastLines', () => {
  it.each([
    ['all of them', ['a', 'b'], 5, 100, { lines: ['a', 'b'], truncated: false }],
    ['the last ones by count', ['a', 'b', 'c'], 2, 100, { lines: ['b', 'c'], truncated: true }],
    [
      'the last ones by bytes (line ending counted)',
      ['aaaa', 'bb', 'cc'],
      10,
      6,
      { lines: ['bb', 'cc'], truncated: true },
    ],
    ['none when the last line alone is too long', ['a', 'bbbbbbbb'], 10, 4, { lines: [], truncated: true }],
    ['nothing', [], 10, 100, { lines: [], truncated: false }],
    ['multi-byte text counted in bytes', ['é', 'éé'], 10, 5, { lines: ['éé'], truncated: true }],
  ])('%s', (_name, lines, count, maxBytes, expected) => {
    expect(keepLastLines(lines, count, maxBytes)).toEqual(expected);
  });
});

describe('readLastLines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-console-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = (name: string, previous: string | undefined, current: string | undefined) => {
    const paths = { previous: join(dir, `${name}.1`), current: join(dir, name) };
    if (previous !== undefined) writeFileSync(paths.previous, previous);
    if (current !== undefined) writeFileSync(paths.current, current);
    return paths;
  };

  it.each([
    ['no log yet', undefined, undefined, 10, 100, { lines: [], truncated: false }],
    ['the current log', undefined, 'a\nb\n', 10, 100, { lines: ['a', 'b'], truncated: false }],
    ['the rotated one first', 'a\nb\n', 'c\n', 10, 100, { lines: ['a', 'b', 'c'], truncated: false }],
    ['an unfinished last line', undefined, 'a\nb', 10, 100, { lines: ['a', 'b'], truncated: false }],
    ['the last lines by count', 'a\nb\n', 'c\nd\n', 3, 100, { lines: ['b', 'c', 'd'], truncated: true }],
    [
      'only the tail is read: a cut first line is dropped',
      'xxxxxxxxxx\n',
      'aaaa\nbb\n',
      10,
      6,
      { lines: ['bb'], truncated: true },
    ],
  ])('%s', (name, previous, current, count, maxBytes, expected) => {
    const paths = files(name.replace(/\W/g, '-'), previous, current);
    expect(readLastLines(paths, count, maxBytes)).toEqual(expected);
  });
});
