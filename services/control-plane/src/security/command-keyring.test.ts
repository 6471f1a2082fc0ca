import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPublicKey, signCommand, verifyCommand } from '@meridian/contracts/security/command-signature';
import { generateSigningKeyPem, KeyringError, loadCommandKeyring } from './command-keyring.js';

const first = generateSigningKeyPem();
const second = generateSigningKeyPem();
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe('loadCommandKeyring', () => {
  it('signs with the first key by default and trusts every listed key', () => {
    const keyring = loadCommandKeyring({
      keysJson: JSON.stringify([
        { keyId: 'old', privateKey: first },
        { keyId: 'new', privateKey: second },
      ]),
    });
    expect(keyring.signing.keyId).toBe('old');
    expect(keyring.publicKeys.map((key) => key.keyId)).toEqual(['old', 'new']);
    expect(keyring.ephemeral).toBe(false);
  });

  it('signs with COMMAND_SIGNING_KEY_ID, and what it signs verifies with the published public key', () => {
    const keyring = loadCommandKeyring({
      keysJson: JSON.stringify([
        { keyId: 'old', privateKey: first },
        { keyId: 'new', privateKey: second },
      ]),
      signingKeyId: 'new',
    });
    const body = Buffer.from('{"x":1}');
    const claims = {
      issuedAt: '2026-12-03T10:00:00.000Z',
      expiresAt: '2026-12-03T10:15:00.000Z',
      messageId: 'm',
      type: 'ExecuteTask',
      nodeId: 'n1',
      executionId: 'e1',
    };
    const headers = signCommand(keyring.signing, claims, body);
    const published = new Map(keyring.publicKeys.map((key) => [key.keyId, importPublicKey(key)]));
    const check = verifyCommand(
      { headers, body, messageId: 'm', type: 'ExecuteTask', nodeId: 'n1', executionId: 'e1' },
      published,
      'n1',
      new Date('2026-12-03T10:01:00.000Z'),
    );
    expect(check).toMatchObject({ ok: true, claims: { keyId: 'new' } });
  });

  it('reads the keys from a file and names a key without an id by its fingerprint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ privateKey: first }]));
    const keyring = loadCommandKeyring({ keysFile: file });
    expect(keyring.signing.keyId).toMatch(/^ed25519-[0-9a-f]{16}$/);
  });

  it('generates a key when none is configured, and says so', () => {
    const keyring = loadCommandKeyring({});
    expect(keyring.ephemeral).toBe(true);
    expect(keyring.publicKeys).toHaveLength(1);
  });

  it.each([
    ['not JSON', { keysJson: '[' }, /not JSON/],
    ['an empty list', { keysJson: '[]' }, /command signing keys/],
    [
      'an unknown field',
      { keysJson: JSON.stringify([{ privateKey: first, extra: 1 }]) },
      /command signing keys/,
    ],
    ['not a PEM key', { keysJson: JSON.stringify([{ privateKey: 'nope' }]) }, /key 0/],
    ['an RSA key', { keysJson: JSON.stringify([{ privateKey: rsa }]) }, /not an Ed25519 key/],
    [
      'two keys with one id',
      {
        keysJson: JSON.stringify([
          { keyId: 'a', privateKey: first },
          { keyId: 'a', privateKey: second },
        ]),
      },
      /share a keyId/,
    ],
    [
      'a signing key id not listed',
      { keysJson: JSON.stringify([{ keyId: 'a', privateKey: first }]), signingKeyId: 'b' },
      /not among the keys/,
    ],
    ['a missing file', { keysFile: '/nonexistent/keys.json' }, /COMMAND_SIGNING_KEYS_FILE/],
  ])('refuses %s', (_name, settings, message) => {
    expect(() => loadCommandKeyring(settings)).toThrow(KeyringError);
    expect(() => loadCommandKeyring(settings)).toThrow(message);
  });
});
