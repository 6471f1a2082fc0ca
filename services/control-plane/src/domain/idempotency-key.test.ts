import { describe, expect, it } from 'vitest';
import { canonicalJson, parseIdempotencyKey } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  it.each([
    [{}, undefined],
    [{ idempotencyKey: 'req-2025-01-02-uuid' }, 'req-2025-01-02-uuid'],
    [{ xIdempotencyKey: '8e03978e-40d5-43e8-bc93-6894a57f9324' }, '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    [{ idempotencyKey: '"quoted-as-the-draft-says"' }, 'quoted-as-the-draft-says'],
    [{ idempotencyKey: '  padded  ' }, 'padded'],
    [{ idempotencyKey: 'same', xIdempotencyKey: 'same' }, 'same'],
    [{ idempotencyKey: 'a'.repeat(255) }, 'a'.repeat(255)],
    [{ idempotencyKey: 'b64+/=:~._-!#$%&*' }, 'b64+/=:~._-!#$%&*'],
  ])('accepts %j as %j', (headers, key) => {
    expect(parseIdempotencyKey(headers)).toEqual({ ok: true, key });
  });

  it.each([
    [{ idempotencyKey: '' }, 'Idempotency-Key', /1 to 255/],
    [{ idempotencyKey: '""' }, 'Idempotency-Key', /1 to 255/],
    [{ xIdempotencyKey: 'a'.repeat(256) }, 'X-Idempotency-Key', /1 to 255/],
    [{ idempotencyKey: 'has space' }, 'Idempotency-Key', /visible ASCII/],
    [{ idempotencyKey: 'back\\slash' }, 'Idempotency-Key', /visible ASCII/],
    [{ idempotencyKey: 'clé' }, 'Idempotency-Key', /visible ASCII/],
    [{ idempotencyKey: 'nul\u0000' }, 'Idempotency-Key', /visible ASCII/],
    [{ idempotencyKey: 'one', xIdempotencyKey: 'two' }, 'X-Idempotency-Key', /differ/],
  ])('refuses %j, naming %s', (headers, header, message) => {
    const result = parseIdempotencyKey(headers);
    expect(result).toMatchObject({ ok: false, header });
    expect(result.ok ? '' : result.message).toMatch(message);
  });
});

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ a: { d: [3, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]}}'],
    [{ a: undefined, b: 'x' }, '{"b":"x"}'],
    [[undefined, 1], '[null,1]'],
    ['text', '"text"'],
    [null, 'null'],
    [{ 'é"': true }, '{"é\\"":true}'],
  ])('writes %j as %s', (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  it('gives one form to bodies that differ in key order only', () => {
    expect(canonicalJson({ type: 'Echo', payload: { x: 1, y: [1, 2] } })).toBe(
      canonicalJson({ payload: { y: [1, 2], x: 1 }, type: 'Echo' }),
    );
  });
});
