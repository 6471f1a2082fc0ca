import { describe, expect, it } from 'vitest';
import {
  clampText,
  hasControlCharacter,
  INT4_MAX,
  int4,
  isUnstorableText,
  toStorableText,
  utf8Bytes,
} from './storable.js';

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

const ALPHABET = ['a', 'Z', ' ', '\n', 'é', '€', '😀', '\u0000', '\ud800', '\udc00', '['];

describe('toStorableText', () => {
  it.each([
    ['plain', 'plain'],
    ['a\u0000b', 'a\uFFFDb'],
    ['\u0000\u0000', '\uFFFD\uFFFD'],
    ['lone \ud800 high', 'lone \uFFFD high'],
    ['lone \udc00 low', 'lone \uFFFD low'],
    ['pair 😀 kept', 'pair 😀 kept'],
    ['reversed \udc00\ud800', 'reversed \uFFFD\uFFFD'],
  ])('%j → %j', (text, expected) => {
    expect(toStorableText(text)).toBe(expected);
  });
});

describe('hasControlCharacter', () => {
  it.each([
    ['node-1', false],
    ['acme corp', false],
    ['é😀', false],
    ['a\u0000', true],
    ['a\nb', true],
    ['tab\t', true],
    ['del\u007f', true],
    ['lone\ud800', true],
  ])('%j → %s', (text, expected) => {
    expect(hasControlCharacter(text)).toBe(expected);
  });
});

describe('clampText', () => {
  it.each([
    ['short', 10, 'short', 0],
    ['x'.repeat(100), 100, 'x'.repeat(100), 0],
    ['abcdefghij'.repeat(10), 40, 'abcdef\n…[88 bytes dropped]…\nefghij', 88],
    ['€'.repeat(10), 5, '€', 27],
  ])('clamps %j to %d bytes', (text, maxBytes, expected, dropped) => {
    expect(clampText(text, maxBytes)).toEqual({ text: expected, droppedBytes: dropped });
  });

  it('never exceeds its limit, never cuts a character, and keeps the head and the tail', () => {
    const next = random(7);
    for (let run = 0; run < 500; run += 1) {
      const length = Math.floor(next() * 400);
      const text = toStorableText(
        Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join(''),
      );
      const maxBytes = Math.floor(next() * 300);
      const clamped = clampText(text, maxBytes);
      const context = `run ${run}: ${JSON.stringify(text)} to ${maxBytes}`;
      if (utf8Bytes(text) <= maxBytes) {
        expect(clamped, context).toEqual({ text, droppedBytes: 0 });
        continue;
      }
      expect(utf8Bytes(clamped.text), context).toBeLessThanOrEqual(maxBytes);
      expect(isUnstorableText(clamped.text), context).toBe(false);
      const [head = '', tail = ''] = clamped.text.split(/\n…\[\d+ bytes dropped\]…\n/);
      expect(text.startsWith(head) && text.endsWith(tail), context).toBe(true);
      expect(utf8Bytes(head) + utf8Bytes(tail) + clamped.droppedBytes, context).toBe(utf8Bytes(text));
    }
  });
});

describe('int4', () => {
  it.each([
    [0, true],
    [INT4_MAX, true],
    [INT4_MAX + 1, false],
    [2 ** 53, false],
    [1.5, false],
    [-1, false],
  ])('%d fits a non-negative int4: %s', (value, ok) => {
    expect(int4(0).safeParse(value).success).toBe(ok);
  });
});
