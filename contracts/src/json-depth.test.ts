import { describe, expect, it } from 'vitest';
import { encodeJson, jsonDepthExceeds, jsonValueDepthExceeds } from './json-depth.js';

/** Deterministic pseudo-random numbers (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const STRINGS = ['', 'plain', '[[[{{{', ']]}}', '"', '\\', '\\"[', 'é€😀', '\u0000'];

/** A random JSON value and its depth (`{}` is 1, a scalar 0). */
function randomJson(next: () => number, budget: number): { value: unknown; depth: number } {
  const pick = next();
  if (budget <= 0 || pick < 0.3) {
    const scalars = [null, true, 12.5, -3, STRINGS[Math.floor(next() * STRINGS.length)]];
    return { value: scalars[Math.floor(next() * scalars.length)], depth: 0 };
  }
  const children = Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, budget - 1));
  const depth = 1 + Math.max(0, ...children.map((child) => child.depth));
  if (pick < 0.65) return { value: children.map((child) => child.value), depth };
  const keys = children.map((_, index) => `${STRINGS[Math.floor(next() * STRINGS.length)]}${index}`);
  return { value: Object.fromEntries(children.map((child, index) => [keys[index], child.value])), depth };
}

const nested = (levels: number) => `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;

describe('jsonDepthExceeds', () => {
  it.each([
    ['1', 0, false],
    ['{}', 0, true],
    ['{}', 1, false],
    ['[[]]', 1, true],
    ['{"a":[1,{"b":2}]}', 3, false],
    ['{"a":[1,{"b":2}]}', 2, true],
    ['{"s":"[[[[[[[[{{{{"}', 1, false],
    ['{"s":"\\"[[[["}', 1, false],
    ['{"s":"\\\\"}', 1, false],
    ['{"s":"\\\\\\"[["}', 1, false],
    ['["é€😀",["x"]]', 1, true],
    ['"unterminated [[[[', 0, false],
    [nested(16), 32, false],
    [nested(17), 32, true],
  ])('%s deeper than %d: %s', (json, maxDepth, expected) => {
    expect(jsonDepthExceeds(json, maxDepth)).toBe(expected);
    expect(jsonDepthExceeds(Buffer.from(json), maxDepth)).toBe(expected);
  });

  it('refuses a document nested 100,000 deep without recursing', () => {
    expect(jsonDepthExceeds(Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 32)).toBe(true);
  });

  it('agrees with the depth of random documents', () => {
    const next = random(42);
    for (let run = 0; run < 1000; run += 1) {
      const { value, depth } = randomJson(next, 6);
      const json = JSON.stringify(value);
      expect(jsonDepthExceeds(Buffer.from(json), depth), json).toBe(false);
      if (depth > 0) expect(jsonDepthExceeds(Buffer.from(json), depth - 1), json).toBe(true);
      expect(jsonValueDepthExceeds(value, depth), json).toBe(false);
      if (depth > 0) expect(jsonValueDepthExceeds(value, depth - 1), json).toBe(true);
      expect(encodeJson(value)).toBe(json);
    }
  });
});

describe('encodeJson', () => {
  it('encodes a value nested deeper than JSON.stringify can', () => {
    const json = nested(20_000);
    const value: unknown = JSON.parse(json);
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(encodeJson(value)).toBe(json);
  });
});
