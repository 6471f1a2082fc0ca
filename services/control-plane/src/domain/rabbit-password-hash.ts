import { createHash, timingSafeEqual } from 'node:crypto';

/** The `hashing_algorithm` the broker is told the hash is in. */
export const RABBIT_HASHING_ALGORITHM = 'rabbit_password_hashing_sha256';
export const RABBIT_SALT_BYTES = 4;
const SHA256_BYTES = 32;

/**
 * RabbitMQ's salted SHA-256 password hash: base64(salt ‖ sha256(salt ‖ utf8(password))) with a
 * 4-byte salt. The broker accepts it as `password_hash` (so the password itself is never stored
 * or sent to it), and the control plane checks an agent's password against the same value.
 */
export function hashRabbitPassword(password: string, salt: Uint8Array): string {
  if (salt.length !== RABBIT_SALT_BYTES) throw new RangeError(`the salt must be ${RABBIT_SALT_BYTES} bytes`);
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** Whether `password` is the one `passwordHash` was made from; in constant time for a well-formed hash. */
export function isPasswordOfRabbitHash(password: string, passwordHash: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  if (stored.length !== RABBIT_SALT_BYTES + SHA256_BYTES) return false;
  const salt = stored.subarray(0, RABBIT_SALT_BYTES);
  const computed = Buffer.from(hashRabbitPassword(password, salt), 'base64');
  return timingSafeEqual(stored, computed);
}
