import { describe, expect, it } from 'vitest';
import { ephemeralKeyring } from './command-keyring.js';
import {
  bodyAsConsumersReadIt,
  ORIGINAL_SENDER_HEADERS,
  originalSenderHeaders,
  verifiedOriginalSender,
} from './original-sender.js';

const keyring = ephemeralKeyring();
const other = ephemeralKeyring();
const body = Buffer.from('{"messageId":"m1","payload":{}}');
const signed = originalSenderHeaders(keyring.signing, 'm.node.a', 'm1', body);
const both = new Map([...other.verifyKeys, ...keyring.verifyKeys]);

describe('original sender headers', () => {
  it.each([
    ['its own message', signed, 'm1', body, keyring.verifyKeys, 'm.node.a'],
    ['any of several trusted keys', signed, 'm1', body, both, 'm.node.a'],
    ['another message id', signed, 'm2', body, keyring.verifyKeys, null],
    ['another body', signed, 'm1', Buffer.from('{}'), keyring.verifyKeys, null],
    ['a key it does not trust', signed, 'm1', body, other.verifyKeys, null],
    [
      'another sender named',
      { ...signed, [ORIGINAL_SENDER_HEADERS.sender]: 'm.node.b' },
      'm1',
      body,
      keyring.verifyKeys,
      null,
    ],
    ['no signature', { [ORIGINAL_SENDER_HEADERS.sender]: 'm.node.a' }, 'm1', body, keyring.verifyKeys, null],
    [
      'a signature that is not one',
      { ...signed, [ORIGINAL_SENDER_HEADERS.signature]: '%%' },
      'm1',
      body,
      keyring.verifyKeys,
      null,
    ],
    ['no headers', undefined, 'm1', body, keyring.verifyKeys, null],
  ] as const)('verify %s → %s', (_, headers, messageId, content, keys, expected) => {
    expect(verifiedOriginalSender(headers, messageId, content, keys)).toBe(expected);
  });

  it('signs nothing that would break a line', () => {
    expect(originalSenderHeaders(keyring.signing, 'a\nb', 'm1', body)).toEqual({});
  });

  it('reads a JSON body back the way a consumer does: once re-encoded, it stays the same', () => {
    const spaced = Buffer.from('{ "b": 1, "1": "é" }');
    const read = bodyAsConsumersReadIt(spaced);
    expect(read.toString()).toBe('{"1":"é","b":1}');
    expect(bodyAsConsumersReadIt(read).equals(read)).toBe(true);
    const notJson = Buffer.from([0xff, 0x00, 0x7b]);
    expect(bodyAsConsumersReadIt(notJson)).toBe(notJson);
  });
});
