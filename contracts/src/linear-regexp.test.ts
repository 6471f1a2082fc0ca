import { describe, expect, it } from 'vitest';
import { compileLinearRegExp, linearRegExpProblem } from './linear-regexp.js';

describe('compileLinearRegExp', () => {
  it.each([
    ['Done \\(.*\\)! For help', '', '[12:00:01] Done (1.23s)! For help, type "help"', true],
    ['Done \\(.*\\)! For help', '', 'Loading world', false],
    ['^ready$', '', 'READY', false],
    ['^ready$', 'i', 'READY', true],
    ['^[a-z]+$', 'u', 'abc', true],
    // Catastrophic for a backtracking engine; linear here.
    ['(a+)+$', '', `${'a'.repeat(100_000)}!`, false],
    ['(x+x+)+y', '', 'x'.repeat(100_000), false],
  ])('/%s/%s on %j → %s', (pattern, flags, text, matches) => {
    expect(compileLinearRegExp(pattern, flags).test(text)).toBe(matches);
  });
});

describe('linearRegExpProblem', () => {
  it.each([
    ['Done \\(.*\\)!', false],
    ['(?<=a)b', true],
    ['(a)\\1', true],
    ['(unclosed', true],
  ])('%s → refused: %s', (pattern, refused) => {
    expect(linearRegExpProblem(pattern) !== undefined).toBe(refused);
  });
});
