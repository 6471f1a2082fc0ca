import { createHash } from 'node:crypto';
import type { Enrollment } from '@meridian/contracts/api/enrollment';

/** Enrollment tokens are `mte_` and 32 random bytes in base64url (43 characters). */
export const ENROLLMENT_TOKEN_PREFIX = 'mte_';
export const ENROLLMENT_TOKEN_BYTES = 32;
const ENROLLMENT_TOKEN_PATTERN = /^mte_[A-Za-z0-9_-]{43}$/;
/** Characters of the random part of a node id enrolled under a name prefix. */
export const NODE_SUFFIX_LENGTH = 8;
const NODE_SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type EnrollmentStatus = Enrollment['status'];

/** What the decisions need of an enrollment row. */
export interface EnrollmentView {
  nodeId: string | null;
  namePrefix: string | null;
  maxUses: number;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
}

export function enrollmentTokenOf(randomBytes: Uint8Array): string {
  if (randomBytes.length !== ENROLLMENT_TOKEN_BYTES) {
    throw new RangeError(`an enrollment token takes ${ENROLLMENT_TOKEN_BYTES} random bytes`);
  }
  return `${ENROLLMENT_TOKEN_PREFIX}${Buffer.from(randomBytes).toString('base64url')}`;
}

/** A token that cannot be one we issued is refused before any database work. */
export function isWellFormedEnrollmentToken(token: string): boolean {
  return ENROLLMENT_TOKEN_PATTERN.test(token);
}

/** Only this is stored: a leaked table lets nobody enroll. */
export function enrollmentTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Revoked first, then used up, then expired: the most telling reason a token no longer works. */
export function enrollmentStatus(enrollment: EnrollmentView, now: Date): EnrollmentStatus {
  if (enrollment.revokedAt !== null) return 'revoked';
  if (enrollment.uses >= enrollment.maxUses) return 'used-up';
  if (enrollment.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** `<namePrefix>-<8 of [a-z0-9]>`, from as many random bytes. */
export function generatedNodeId(namePrefix: string, randomBytes: Uint8Array): string {
  if (randomBytes.length < NODE_SUFFIX_LENGTH) {
    throw new RangeError(`a node id suffix takes ${NODE_SUFFIX_LENGTH} random bytes`);
  }
  let suffix = '';
  for (const byte of randomBytes.subarray(0, NODE_SUFFIX_LENGTH)) {
    suffix += NODE_SUFFIX_ALPHABET[byte % NODE_SUFFIX_ALPHABET.length];
  }
  return `${namePrefix}-${suffix}`;
}

export type EnrollmentUse =
  { ok: true; nodeId: string } | { ok: false; status: Exclude<EnrollmentStatus, 'active'> };

/** Whether a presented token may enroll a node now, and which node id it gets. */
export function decideEnrollmentUse(
  enrollment: EnrollmentView,
  now: Date,
  randomBytes: Uint8Array,
): EnrollmentUse {
  const status = enrollmentStatus(enrollment, now);
  if (status !== 'active') return { ok: false, status };
  if (enrollment.nodeId !== null) return { ok: true, nodeId: enrollment.nodeId };
  if (enrollment.namePrefix !== null) {
    return { ok: true, nodeId: generatedNodeId(enrollment.namePrefix, randomBytes) };
  }
  // The table's CHECK makes this unreachable; a row without either is not usable.
  return { ok: false, status: 'revoked' };
}
