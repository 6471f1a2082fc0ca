import { describe, expect, it } from 'vitest';
import { decodePageCursor, encodePageCursor } from './page-cursor.js';

const position = {
  createdAt: new Date('2026-06-01T12:00:00.123Z'),
  id: '0b7c6f1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
};
const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('page cursors', () => {
  it('decode to the position they were made from', () => {
    expect(decodePageCursor(encodePageCursor(position))).toEqual(position);
  });

  it.each([
    ['', null],
    ['not-a-cursor', null],
    [b64('2026-06-01T12:00:00.123Z'), null],
    [b64('2026-06-01T12:00:00.123Z|not-a-uuid'), null],
    [b64(`2026-06-01|${position.id}`), null],
    [b64(`2026-13-01T12:00:00.000Z|${position.id}`), null],
    [b64(`2026-06-01T12:00:00.123Z|${position.id}|x`), null],
  ])('refuse %j', (cursor, expected) => {
    expect(decodePageCursor(cursor)).toBe(expected);
  });
});
