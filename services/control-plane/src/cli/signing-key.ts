import { parseArgs } from 'node:util';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { keyFingerprint } from '@meridian/contracts/security/command-signature';
import { generateSigningKeyPem } from '../security/command-keyring.js';

/**
 * Prints a new command-signing key as one entry of COMMAND_SIGNING_KEYS (docs/security.md,
 * "Rolling the signing key"):
 *   npm run signing-key -- [--key-id 2026-12]
 */
const { values } = parseArgs({
  options: { 'key-id': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (values.help) {
  console.log(
    'usage: npm run signing-key -- [--key-id ID]   (prints one JSON entry of COMMAND_SIGNING_KEYS)',
  );
  process.exit(0);
}
const keyId = values['key-id'];
if (keyId !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(keyId)) {
  console.error('--key-id: letters, digits, ".", "_" and "-", at most 100');
  process.exit(2);
}
const privateKey = generateSigningKeyPem();
const id = keyId ?? keyFingerprint(createPublicKey(createPrivateKey(privateKey)));
console.log(JSON.stringify({ keyId: id, privateKey }));
