import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed commands (protocol version 2). The control plane signs every ExecuteTask and CancelTask
 * with Ed25519; the signature and what it covers travel in AMQP headers, so a version-1 agent,
 * which ignores them, still reads the body it always did.
 *
 * What is signed: a fixed label, the key id, issued-at, expires-at, the message id, the command
 * type, the node id and the execution id, one per line, then the body's bytes exactly as sent.
 * The agent verifies before parsing anything it would act on, then checks that the body names the
 * same message, node and execution as the signed lines, and that the node is its own.
 */
export const SIGNATURE_HEADERS = {
  signature: 'x-meridian-signature',
  keyId: 'x-meridian-key-id',
  issuedAt: 'x-meridian-issued-at',
  expiresAt: 'x-meridian-expires-at',
  nodeId: 'x-meridian-node-id',
  executionId: 'x-meridian-execution-id',
} as const;

export const SIGNATURE_ALGORITHM = 'Ed25519';
const SIGNED_LABEL = 'meridian-command-v1';
/** Clocks of the control plane and of an agent may disagree by this much, either way. */
export const CLOCK_SKEW_MS = 60_000;

/** What the signature says about the command, beside the body. */
export interface SignedClaims {
  keyId: string;
  issuedAt: string;
  expiresAt: string;
  messageId: string;
  type: string;
  nodeId: string;
  executionId: string;
}

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/** A public key as handed to agents: the SPKI DER bytes in base64. */
export interface SigningPublicKey {
  keyId: string;
  algorithm: typeof SIGNATURE_ALGORITHM;
  publicKey: string;
}

function signedBytes(claims: SignedClaims, body: Buffer): Buffer {
  const lines = [
    SIGNED_LABEL,
    claims.keyId,
    claims.issuedAt,
    claims.expiresAt,
    claims.messageId,
    claims.type,
    claims.nodeId,
    claims.executionId,
  ];
  for (const line of lines) {
    if (line.includes('\n')) throw new Error('a signed claim must not contain a line break');
  }
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n`, 'utf8'), body]);
}

/** The AMQP headers that carry the signature of `body`. */
export function signCommand(
  key: SigningKey,
  claims: Omit<SignedClaims, 'keyId'>,
  body: Buffer,
): Record<string, string> {
  const full: SignedClaims = { ...claims, keyId: key.keyId };
  const signature = sign(null, signedBytes(full, body), key.privateKey);
  return {
    [SIGNATURE_HEADERS.signature]: signature.toString('base64'),
    [SIGNATURE_HEADERS.keyId]: full.keyId,
    [SIGNATURE_HEADERS.issuedAt]: full.issuedAt,
    [SIGNATURE_HEADERS.expiresAt]: full.expiresAt,
    [SIGNATURE_HEADERS.nodeId]: full.nodeId,
    [SIGNATURE_HEADERS.executionId]: full.executionId,
  };
}

export type SignatureRefusal =
  | 'missing-signature'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-node'
  | 'mismatch';

export type SignatureCheck =
  { ok: true; claims: SignedClaims } | { ok: false; code: SignatureRefusal; reason: string; keyId?: string };

export interface CommandToVerify {
  headers: Readonly<Record<string, unknown>> | undefined;
  body: Buffer;
  /** From the parsed body: checked against the signed claims. */
  messageId: string;
  type: string;
  nodeId: string;
  executionId: string;
}

/**
 * Checks a command's signature against the keys the agent trusts, its expiry and its target.
 * Never throws; `unknown-key` lets the caller refresh its keys once and try again.
 */
export function verifyCommand(
  command: CommandToVerify,
  keys: ReadonlyMap<string, KeyObject>,
  ownNodeId: string,
  now: Date,
): SignatureCheck {
  const header = (name: string): string | undefined => {
    const value = command.headers?.[name];
    return typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  };
  const signature = header(SIGNATURE_HEADERS.signature);
  const keyId = header(SIGNATURE_HEADERS.keyId);
  const issuedAt = header(SIGNATURE_HEADERS.issuedAt);
  const expiresAt = header(SIGNATURE_HEADERS.expiresAt);
  const nodeId = header(SIGNATURE_HEADERS.nodeId);
  const executionId = header(SIGNATURE_HEADERS.executionId);
  if (!signature || !keyId || !issuedAt || !expiresAt || !nodeId || !executionId) {
    return { ok: false, code: 'missing-signature', reason: 'the command is not signed' };
  }
  const key = keys.get(keyId);
  if (!key)
    return { ok: false, code: 'unknown-key', reason: `unknown signing key "${keyId.slice(0, 100)}"`, keyId };
  const claims: SignedClaims = {
    keyId,
    issuedAt,
    expiresAt,
    messageId: command.messageId,
    type: command.type,
    nodeId,
    executionId,
  };
  let valid = false;
  try {
    valid = verify(null, signedBytes(claims, command.body), key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid)
    return { ok: false, code: 'bad-signature', reason: 'the signature does not match the command', keyId };
  if (command.nodeId !== nodeId || command.executionId !== executionId) {
    return {
      ok: false,
      code: 'mismatch',
      reason: 'the body names another node or execution than the signature',
    };
  }
  if (nodeId !== ownNodeId) {
    return { ok: false, code: 'wrong-node', reason: `the command is for node "${nodeId}", not this one` };
  }
  const issued = Date.parse(issuedAt);
  const expires = Date.parse(expiresAt);
  if (!Number.isFinite(issued) || !Number.isFinite(expires)) {
    return { ok: false, code: 'bad-signature', reason: 'issued-at or expires-at is not a time' };
  }
  if (issued > now.getTime() + CLOCK_SKEW_MS) {
    return { ok: false, code: 'not-yet-valid', reason: `issued in the future (${issuedAt})` };
  }
  if (expires + CLOCK_SKEW_MS < now.getTime()) {
    return { ok: false, code: 'expired', reason: `expired at ${expiresAt}` };
  }
  return { ok: true, claims };
}

/** The key id used when none is given: a fingerprint of the public key. */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

export function exportPublicKey(keyId: string, publicKey: KeyObject): SigningPublicKey {
  return {
    keyId,
    algorithm: SIGNATURE_ALGORITHM,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** Reads a public key handed out by the control plane; throws on anything but Ed25519. */
export function importPublicKey(key: SigningPublicKey): KeyObject {
  const object = createPublicKey({ key: Buffer.from(key.publicKey, 'base64'), format: 'der', type: 'spki' });
  if (object.asymmetricKeyType !== 'ed25519') throw new Error(`key "${key.keyId}" is not an Ed25519 key`);
  return object;
}

/** Reads a PKCS#8 PEM private key; throws on anything but Ed25519. */
export function importPrivateKey(pem: string): KeyObject {
  const object = createPrivateKey({ key: pem, format: 'pem' });
  if (object.asymmetricKeyType !== 'ed25519') throw new Error('the signing key is not an Ed25519 key');
  return object;
}
