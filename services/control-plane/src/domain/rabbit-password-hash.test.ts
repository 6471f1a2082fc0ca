import { describe, expect, it } from 'vitest';
import { hashRabbitPassword, isPasswordOfRabbitHash } from './rabbit-password-hash.js';

const salt = Uint8Array.from([0x90, 0x8d, 0xc6, 0x0a]);

describe('hashRabbitPassword', () => {
  it.each([
    // The first is the example of RabbitMQ's documentation ("Computing Password Hash"); the others
    // were computed independently (Python hashlib: base64(salt + sha256(salt + utf8(password)))).
    ['test12', 'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR'],
    ['', 'kI3GCrTX798KLXnBt/mFM97t8TbDJzaewEU/2YfqeB4xLGFr'],
    ['pässwörd', 'kI3GClsOFtopbKwdov4/ENvEWw/B0G8pjpMDaFMO74PDffqF'],
  ])('hashes %j with a fixed salt as the broker does', (password, expected) => {
    expect(hashRabbitPassword(password, salt)).toBe(expected);
  });

  it('refuses a salt that is not 4 bytes', () => {
    expect(() => hashRabbitPassword('x', new Uint8Array(8))).toThrow(RangeError);
  });
});

describe('isPasswordOfRabbitHash', () => {
  const hash = hashRabbitPassword('s3cret', salt);
  it.each([
    ['s3cret', hash, true],
    ['s3cret ', hash, false],
    ['S3cret', hash, false],
    ['', hash, false],
    ['s3cret', hashRabbitPassword('s3cret', Uint8Array.from([1, 2, 3, 4])), true],
    ['s3cret', 'not base64 at all', false],
    ['s3cret', '', false],
    ['s3cret', hash.slice(0, -4), false],
  ])('%j against %j → %s', (password, stored, expected) => {
    expect(isPasswordOfRabbitHash(password, stored)).toBe(expected);
  });
});
