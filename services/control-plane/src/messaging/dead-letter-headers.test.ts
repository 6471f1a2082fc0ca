import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_REASON_HEADER } from '@meridian/contracts/topology';
import {
  BODY_TRUNCATED_HEADER,
  DEAD_LETTER_LIMITS,
  DROPPED_HEADERS_HEADER,
  deadLetterHeaders,
  headersSize,
  ORIGINAL_ROUTING_KEY_HEADER,
  ORIGINAL_SIZE_HEADER,
  truncateUtf8,
} from './dead-letter-headers.js';

const source = (headers: Record<string, unknown> | undefined, routingKey = 'TaskStarted') => ({
  headers,
  routingKey,
  bodyBytes: 42,
});

describe('truncateUtf8', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['abcdefghijk', 10, 'abcdefg…'],
    // 'é' is 2 bytes: a cut in the middle of one drops it whole
    ['éééééé', 8, 'éé…'],
    ['😀😀😀', 9, '😀…'],
    ['', 0, ''],
  ])('%j in %i bytes is %j', (text, maxBytes, expected) => {
    const result = truncateUtf8(text, maxBytes);
    expect(result).toBe(expected);
    expect(Buffer.byteLength(result)).toBeLessThanOrEqual(Math.max(maxBytes, 0));
  });
});

describe('deadLetterHeaders', () => {
  it('carries the reason, the original routing key and size, and small original headers', () => {
    expect(
      deadLetterHeaders(source({ 'x-delivery-count': 2, trace: 'abc', ok: true }), 'bad', false),
    ).toEqual({
      'x-delivery-count': 2,
      trace: 'abc',
      ok: true,
      [DEAD_LETTER_REASON_HEADER]: 'bad',
      [ORIGINAL_ROUTING_KEY_HEADER]: 'TaskStarted',
      [ORIGINAL_SIZE_HEADER]: 42,
    });
  });

  it.each([
    ['a 9 KB string value', { big: 'x'.repeat(9000) }, { big: `${'x'.repeat(253)}…` }, 0],
    ['a table', { nested: { a: 1 } }, {}, 1],
    ['an array', { list: [1, 2] }, {}, 1],
    ['a byte string', { bytes: Buffer.alloc(10) }, {}, 1],
    ['a null', { nothing: null }, {}, 1],
    ['an over-long name', { ['k'.repeat(65)]: 'v' }, {}, 1],
    ['our own header of an earlier dead-lettering', { [DEAD_LETTER_REASON_HEADER]: 'old' }, {}, 0],
  ])('copies %s as expected', (_, headers, copied, dropped) => {
    const result = deadLetterHeaders(source(headers), 'why', false);
    const { [DEAD_LETTER_REASON_HEADER]: reason, [ORIGINAL_ROUTING_KEY_HEADER]: key, ...rest } = result;
    expect(reason).toBe('why');
    expect(key).toBe('TaskStarted');
    const expected: Record<string, unknown> = { ...copied, [ORIGINAL_SIZE_HEADER]: 42 };
    if (dropped > 0) expected[DROPPED_HEADERS_HEADER] = dropped;
    expect(rest).toEqual(expected);
  });

  it('clamps the reason and marks a truncated body', () => {
    const result = deadLetterHeaders(source(undefined, 'r'.repeat(300)), 'é'.repeat(5000), true);
    expect(Buffer.byteLength(result[DEAD_LETTER_REASON_HEADER] as string)).toBeLessThanOrEqual(
      DEAD_LETTER_LIMITS.reasonBytes,
    );
    expect(Buffer.byteLength(result[ORIGINAL_ROUTING_KEY_HEADER] as string)).toBeLessThanOrEqual(255);
    expect(result[BODY_TRUNCATED_HEADER]).toBe(true);
  });

  it.each([
    ['many small headers', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, i]))],
    [
      'many long strings',
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`h${i}`, 'x'.repeat(9000)])),
    ],
    [
      'long multi-byte strings',
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`ключ${i}`, 'ж'.repeat(5000)])),
    ],
  ])('stays within the budget with %s, counting what it dropped', (_, headers) => {
    const result = deadLetterHeaders(source(headers, 'k'.repeat(255)), '😀'.repeat(1000), true);
    expect(headersSize(result)).toBeLessThanOrEqual(DEAD_LETTER_LIMITS.headersBytes);
    const copied = Object.keys(result).filter((key) => !key.startsWith('x-meridian-')).length;
    expect(copied + (result[DROPPED_HEADERS_HEADER] as number)).toBe(Object.keys(headers).length);
  });
});
