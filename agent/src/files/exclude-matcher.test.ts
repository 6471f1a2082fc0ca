import { describe, expect, it } from 'vitest';
import { excludeMatcher } from './exclude-matcher.js';

describe('excludeMatcher', () => {
  const isExcluded = excludeMatcher(['*.log', 'cache', 'world/session.lock', 'logs/**', '.git']);

  it.each([
    ['latest.log', true],
    ['logs/old/2024.log', true],
    ['plugins/x/debug.log', true],
    ['cache', true],
    ['plugins/cache', true],
    ['world/session.lock', true],
    ['other/world/session.lock', false],
    ['logs', true],
    ['.git', true],
    ['world/level.dat', false],
    ['cachefile', false],
  ])('%j excluded: %s', (path, expected) => {
    expect(isExcluded(path)).toBe(expected);
  });

  it('excludes nothing without patterns', () => {
    expect(excludeMatcher([])('anything.log')).toBe(false);
  });
});
