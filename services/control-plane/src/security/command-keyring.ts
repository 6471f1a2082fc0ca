import { readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  exportPublicKey,
  importPrivateKey,
  keyFingerprint,
  type SigningKey,
  type SigningPublicKey,
} from '@meridian/contracts/security/command-signature';

/**
 * The control plane's command-signing keys: one signs, all are handed to agents as trusted, so
 * that a key can be rolled without a moment when agents refuse commands (docs/security.md,
 * "Rolling the signing key").
 */
export interface CommandKeyring {
  /** Signs every command this replica publishes. */
  signing: SigningKey;
  /** Every key agents must accept, the signing one included. */
  publicKeys: readonly SigningPublicKey[];
  /** The same keys, to verify what this control plane signed itself. */
  verifyKeys: ReadonlyMap<string, KeyObject>;
  /** True when the keys were generated at start-up (development only): agents must refresh them. */
  ephemeral: boolean;
}

const KeyListSchema = z
  .array(
    z
      .object({
        keyId: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/)
          .optional(),
        privateKey: z.string().min(1),
      })
      .strict(),
  )
  .min(1);

export class KeyringError extends Error {
  override name = 'KeyringError';
}

export interface KeyringSettings {
  /** JSON: `[{"keyId": "...", "privateKey": "-----BEGIN PRIVATE KEY-----..."}]`. */
  keysJson?: string;
  /** A file holding the same JSON. */
  keysFile?: string;
  /** Which key signs; the first listed when unset. */
  signingKeyId?: string;
}

/** Reads the configured keys; with none configured, generates one (the caller decides if allowed). */
export function loadCommandKeyring(settings: KeyringSettings): CommandKeyring {
  const json = settings.keysJson ?? (settings.keysFile ? readKeysFile(settings.keysFile) : undefined);
  if (json === undefined) return ephemeralKeyring();
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new KeyringError(`command signing keys are not JSON: ${(error as Error).message}`);
  }
  const parsed = KeyListSchema.safeParse(raw);
  if (!parsed.success) {
    throw new KeyringError(
      `command signing keys: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const keys = parsed.data.map((entry, index) => {
    let privateKey: KeyObject;
    try {
      privateKey = importPrivateKey(entry.privateKey);
    } catch (error) {
      throw new KeyringError(`command signing key ${index}: ${(error as Error).message}`);
    }
    const publicKey = createPublicKey(privateKey);
    return { keyId: entry.keyId ?? keyFingerprint(publicKey), privateKey, publicKey };
  });
  const ids = new Set(keys.map((key) => key.keyId));
  if (ids.size !== keys.length) throw new KeyringError('command signing keys: two keys share a keyId');
  const signing = settings.signingKeyId ? keys.find((key) => key.keyId === settings.signingKeyId) : keys[0];
  if (!signing)
    throw new KeyringError(`COMMAND_SIGNING_KEY_ID "${settings.signingKeyId}" is not among the keys`);
  return {
    signing: { keyId: signing.keyId, privateKey: signing.privateKey },
    publicKeys: keys.map((key) => exportPublicKey(key.keyId, key.publicKey)),
    verifyKeys: new Map(keys.map((key) => [key.keyId, key.publicKey])),
    ephemeral: false,
  };
}

function readKeysFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyringError(`COMMAND_SIGNING_KEYS_FILE: ${(error as Error).message}`);
  }
}

/** A fresh key pair: for development and tests, never for several replicas or production. */
export function ephemeralKeyring(): CommandKeyring {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = keyFingerprint(publicKey);
  return {
    signing: { keyId, privateKey },
    publicKeys: [exportPublicKey(keyId, publicKey)],
    verifyKeys: new Map([[keyId, publicKey]]),
    ephemeral: true,
  };
}

/** A PKCS#8 PEM Ed25519 private key, as `COMMAND_SIGNING_KEYS` wants it (npm run signing-key). */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
