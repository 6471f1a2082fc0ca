import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { SigningKey } from '@meridian/contracts/security/command-signature';

/**
 * Command-signing keys made for one test run, as an operator configures them
 * (`COMMAND_SIGNING_KEYS`), with the private key kept so that a test can sign commands exactly as
 * the control plane does: to show that the agent refuses a valid signature on a command that is
 * expired, for another node or replayed.
 */
export interface TestSigningKeys {
  /** The value of COMMAND_SIGNING_KEYS. */
  json: string;
  key: SigningKey;
}

export function generateCommandSigningKeys(): TestSigningKeys {
  const { privateKey } = generateKeyPairSync('ed25519');
  const keyId = `e2e-${randomBytes(4).toString('hex')}`;
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { json: JSON.stringify([{ keyId, privateKey: pem }]), key: { keyId, privateKey } };
}
