import { describe, expect, it } from 'vitest';
import { parseBasicAuthorization } from './basic-credentials.js';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('parseBasicAuthorization', () => {
  it.each([
    [basic('meridian.node.a:pw'), { username: 'meridian.node.a', password: 'pw' }],
    [basic('u:p:with:colons'), { username: 'u', password: 'p:with:colons' }],
    [basic('u:'), { username: 'u', password: '' }],
    [`basic ${Buffer.from('u:p').toString('base64')}`, { username: 'u', password: 'p' }],
    [basic('ü:pässword'), { username: 'ü', password: 'pässword' }],
    [undefined, null],
    ['', null],
    ['Bearer abc', null],
    ['Basic', null],
    ['Basic !!!', null],
    [basic('no-colon'), null],
    [basic(':password-only'), null],
    [`Basic ${'A'.repeat(2000)}`, null],
  ])('%j → %o', (header, expected) => {
    expect(parseBasicAuthorization(header)).toEqual(expected);
  });
});
