import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_MS,
  SIGNATURE_HEADERS,
  exportPublicKey,
  importPrivateKey,
  importPublicKey,
  keyFingerprint,
  signCommand,
  verifyCommand,
  type CommandToVerify,
  type SignatureRefusal,
} from './command-signature.js';

const pair = () => generateKeyPairSync('ed25519');
const trusted = pair();
const stranger = pair();
const KEY_ID = 'key-1';
const keys: ReadonlyMap<string, KeyObject> = new Map([[KEY_ID, trusted.publicKey]]);

const NOW = new Date('2026-06-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const NODE = 'node-a';
const EXECUTION = '00000000-0000-4000-8000-0000000000e1';
const MESSAGE = '00000000-0000-4000-8000-0000000000a1';

interface Signed extends CommandToVerify {
  headers: Record<string, string>;
}

/** A command as the control plane signs it: claims drawn from the body, valid from NOW - 1 s for 15 minutes. */
function signed(overrides: { issuedAt?: string; expiresAt?: string; nodeId?: string } = {}): Signed {
  const nodeId = overrides.nodeId ?? NODE;
  const body = Buffer.from(
    JSON.stringify({ messageId: MESSAGE, type: 'ExecuteTask', nodeId, payload: { executionId: EXECUTION } }),
  );
  const claims = {
    issuedAt: overrides.issuedAt ?? at(-1_000),
    expiresAt: overrides.expiresAt ?? at(15 * 60_000),
    messageId: MESSAGE,
    type: 'ExecuteTask',
    nodeId,
    executionId: EXECUTION,
  };
  const headers = signCommand({ keyId: KEY_ID, privateKey: trusted.privateKey }, claims, body);
  return { headers, body, messageId: MESSAGE, type: 'ExecuteTask', nodeId, executionId: EXECUTION };
}

const withHeader = (command: Signed, name: string, value: string): Signed => ({
  ...command,
  headers: { ...command.headers, [name]: value },
});
const withoutHeader = (command: Signed, name: string): Signed => {
  const headers = { ...command.headers };
  delete headers[name];
  return { ...command, headers };
};
const tamperedBody = (command: Signed): Signed => {
  const body = Buffer.from(command.body);
  body[body.length - 3] = 'x'.charCodeAt(0);
  return { ...command, body };
};
const signedByStranger = (command: Signed): Signed => {
  const header = (name: string) => command.headers[name] ?? '';
  const claims = {
    issuedAt: header(SIGNATURE_HEADERS.issuedAt),
    expiresAt: header(SIGNATURE_HEADERS.expiresAt),
    messageId: command.messageId,
    type: command.type,
    nodeId: command.nodeId,
    executionId: command.executionId,
  };
  return {
    ...command,
    headers: signCommand({ keyId: KEY_ID, privateKey: stranger.privateKey }, claims, command.body),
  };
};

const SKEW = CLOCK_SKEW_MS;

describe('verifyCommand', () => {
  it.each<[string, Signed, SignatureRefusal | 'ok']>([
    ['a valid command', signed(), 'ok'],
    ['expired, but within the clock skew', signed({ expiresAt: at(-SKEW + 1_000) }), 'ok'],
    ['issued in the future, but within the clock skew', signed({ issuedAt: at(SKEW - 1_000) }), 'ok'],
    ['no signature headers at all', { ...signed(), headers: {} }, 'missing-signature'],
    ['no signature header', withoutHeader(signed(), SIGNATURE_HEADERS.signature), 'missing-signature'],
    ['no expiry header', withoutHeader(signed(), SIGNATURE_HEADERS.expiresAt), 'missing-signature'],
    ['a tampered body', tamperedBody(signed()), 'bad-signature'],
    [
      'a signature of random bytes',
      withHeader(signed(), SIGNATURE_HEADERS.signature, 'AAAA'),
      'bad-signature',
    ],
    ['signed by a key nobody trusts, under a trusted key id', signedByStranger(signed()), 'bad-signature'],
    ['a tampered issued-at', withHeader(signed(), SIGNATURE_HEADERS.issuedAt, at(-2_000)), 'bad-signature'],
    [
      'a tampered (extended) expiry',
      withHeader(signed(), SIGNATURE_HEADERS.expiresAt, at(3_600_000)),
      'bad-signature',
    ],
    ['a tampered node id header', withHeader(signed(), SIGNATURE_HEADERS.nodeId, 'node-b'), 'bad-signature'],
    [
      'a tampered execution id header',
      withHeader(signed(), SIGNATURE_HEADERS.executionId, '00000000-0000-4000-8000-0000000000e2'),
      'bad-signature',
    ],
    [
      'another message id in the body',
      { ...signed(), messageId: '00000000-0000-4000-8000-0000000000a2' },
      'bad-signature',
    ],
    ['another command type in the body', { ...signed(), type: 'CancelTask' }, 'bad-signature'],
    ['an unknown key id', withHeader(signed(), SIGNATURE_HEADERS.keyId, 'key-2'), 'unknown-key'],
    ['signed for another node', signed({ nodeId: 'node-b' }), 'wrong-node'],
    ['expired beyond the clock skew', signed({ expiresAt: at(-SKEW - 1_000) }), 'expired'],
    ['issued beyond the clock skew in the future', signed({ issuedAt: at(SKEW + 1_000) }), 'not-yet-valid'],
    ['issued-at that is not a time', signed({ issuedAt: 'soon' }), 'bad-signature'],
    ['a body naming another node than the signature', { ...signed(), nodeId: 'node-b' }, 'mismatch'],
    [
      'a body naming another execution than the signature',
      { ...signed(), executionId: '00000000-0000-4000-8000-0000000000e2' },
      'mismatch',
    ],
  ])('%s -> %s', (_, command, expected) => {
    const result = verifyCommand(command, keys, NODE, NOW);
    if (expected === 'ok') {
      expect(result).toMatchObject({
        ok: true,
        claims: { keyId: KEY_ID, nodeId: NODE, executionId: EXECUTION },
      });
    } else {
      expect(result).toMatchObject({ ok: false, code: expected });
    }
  });

  it('reads headers delivered as bytes (AMQP long strings)', () => {
    const command = signed();
    const headers = Object.fromEntries(
      Object.entries(command.headers).map(([name, value]) => [name, Buffer.from(value)]),
    );
    expect(verifyCommand({ ...command, headers }, keys, NODE, NOW).ok).toBe(true);
  });

  it('names the unknown key so that the caller can refresh its keys', () => {
    const result = verifyCommand(withHeader(signed(), SIGNATURE_HEADERS.keyId, 'key-2'), keys, NODE, NOW);
    expect(result).toMatchObject({ ok: false, code: 'unknown-key', keyId: 'key-2' });
  });

  it('refuses to sign a claim with a line break (it would shift the signed lines)', () => {
    expect(() =>
      signCommand(
        { keyId: KEY_ID, privateKey: trusted.privateKey },
        {
          issuedAt: at(0),
          expiresAt: at(1),
          messageId: 'a\nb',
          type: 'T',
          nodeId: NODE,
          executionId: EXECUTION,
        },
        Buffer.from('{}'),
      ),
    ).toThrow(/line break/);
  });
});

describe('public keys', () => {
  it('travel as SPKI DER base64 and come back as the same key', () => {
    const exported = exportPublicKey(keyFingerprint(trusted.publicKey), trusted.publicKey);
    expect(exported.algorithm).toBe('Ed25519');
    expect(exported.keyId).toMatch(/^ed25519-[0-9a-f]{16}$/);
    const imported = importPublicKey(exported);
    const command = signed();
    expect(verifyCommand(command, new Map([[KEY_ID, imported]]), NODE, NOW).ok).toBe(true);
  });

  it('refuses keys that are not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const spki = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(() => importPublicKey({ keyId: 'rsa', algorithm: 'Ed25519', publicKey: spki })).toThrow(/Ed25519/);
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => importPrivateKey(pem)).toThrow(/Ed25519/);
  });
});
