import { describe, expect, it } from 'vitest';
import { ENROLLED_NODE_ID_PATTERN } from '@meridian/contracts/security/node-identity';
import {
  decideEnrollmentUse,
  enrollmentStatus,
  enrollmentTokenHash,
  enrollmentTokenOf,
  generatedNodeId,
  isWellFormedEnrollmentToken,
  type EnrollmentView,
} from './node-enrollment.js';

const now = new Date('2026-06-01T12:00:00Z');
const later = new Date(now.getTime() + 60_000);
const earlier = new Date(now.getTime() - 1);
const bytes = (value: number, length = 8) => new Uint8Array(length).fill(value);

const enrollment = (fields: Partial<EnrollmentView> = {}): EnrollmentView => ({
  nodeId: 'node-1',
  namePrefix: null,
  maxUses: 1,
  uses: 0,
  expiresAt: later,
  revokedAt: null,
  ...fields,
});

describe('enrollmentStatus', () => {
  it.each([
    [{}, 'active'],
    [{ uses: 1 }, 'used-up'],
    [{ expiresAt: now }, 'expired'],
    [{ expiresAt: earlier }, 'expired'],
    [{ revokedAt: earlier }, 'revoked'],
    [{ revokedAt: earlier, uses: 1, expiresAt: earlier }, 'revoked'],
    [{ uses: 1, expiresAt: earlier }, 'used-up'],
    [{ namePrefix: 'web', nodeId: null, maxUses: 5, uses: 4 }, 'active'],
    [{ namePrefix: 'web', nodeId: null, maxUses: 5, uses: 5 }, 'used-up'],
  ] as const)('%o → %s', (fields, expected) => {
    expect(enrollmentStatus(enrollment(fields), now)).toBe(expected);
  });
});

describe('decideEnrollmentUse', () => {
  it.each([
    [{}, { ok: true, nodeId: 'node-1' }],
    [
      { nodeId: null, namePrefix: 'web' },
      { ok: true, nodeId: 'web-aaaaaaaa' },
    ],
    [{ uses: 1 }, { ok: false, status: 'used-up' }],
    [{ expiresAt: earlier }, { ok: false, status: 'expired' }],
    [{ revokedAt: earlier }, { ok: false, status: 'revoked' }],
    [
      { nodeId: null, namePrefix: null },
      { ok: false, status: 'revoked' },
    ],
  ] as const)('%o → %o', (fields, expected) => {
    expect(decideEnrollmentUse(enrollment(fields), now, bytes(0))).toEqual(expected);
  });
});

describe('generatedNodeId', () => {
  it.each([
    [bytes(0), 'p-aaaaaaaa'],
    [bytes(35), 'p-99999999'],
    [bytes(36), 'p-aaaaaaaa'],
    [Uint8Array.from([0, 1, 2, 25, 26, 27, 255, 100]), 'p-abcz01d2'],
  ])('%o → %s', (random, expected) => {
    expect(generatedNodeId('p', random)).toBe(expected);
  });

  it('makes ids an enrolled node may have, even from the longest prefix', () => {
    expect(generatedNodeId('a'.repeat(91), bytes(200))).toMatch(ENROLLED_NODE_ID_PATTERN);
  });

  it('refuses too few random bytes', () => {
    expect(() => generatedNodeId('p', bytes(0, 7))).toThrow(RangeError);
  });
});

describe('enrollment tokens', () => {
  it('are mte_ and 43 base64url characters, and well-formed', () => {
    const token = enrollmentTokenOf(bytes(0xff, 32));
    expect(token).toBe(`mte_${'_'.repeat(42)}8`);
    expect(isWellFormedEnrollmentToken(token)).toBe(true);
  });

  it.each([
    ['', false],
    ['mte_', false],
    [`mte_${'a'.repeat(42)}`, false],
    [`mte_${'a'.repeat(44)}`, false],
    [`mtx_${'a'.repeat(43)}`, false],
    [`mte_${'a'.repeat(42)}=`, false],
    [`mte_${'a'.repeat(42)}+`, false],
    [`mte_${'a'.repeat(43)}`, true],
  ])('%j well-formed: %s', (token, expected) => {
    expect(isWellFormedEnrollmentToken(token)).toBe(expected);
  });

  it('are stored as their SHA-256 in hex', () => {
    expect(enrollmentTokenHash('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('take exactly 32 random bytes', () => {
    expect(() => enrollmentTokenOf(bytes(0, 31))).toThrow(RangeError);
  });
});
