import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CommandMessage } from '@meridian/contracts/messages/command-message';
import {
  exportPublicKey,
  signCommand,
  type SignedClaims,
  type SigningPublicKey,
} from '@meridian/contracts/security/command-signature';

export interface SignedCommand {
  body: Buffer;
  headers: Record<string, string>;
}

/** Claims to sign instead of those drawn from the command (forgeries, expired commands). */
export type ClaimOverrides = Partial<Omit<SignedClaims, 'keyId' | 'messageId' | 'type'>>;

/**
 * Signs commands as the control plane's outbox relay does: the body is the command's JSON bytes,
 * valid from a second ago for 15 minutes, node and execution from the body.
 */
export class CommandSigner {
  readonly publicKey: SigningPublicKey;
  readonly #privateKey: KeyObject;

  constructor(readonly keyId = 'test-key-1') {
    const pair = generateKeyPairSync('ed25519');
    this.#privateKey = pair.privateKey;
    this.publicKey = exportPublicKey(keyId, pair.publicKey);
  }

  sign(command: CommandMessage, overrides: ClaimOverrides = {}): SignedCommand {
    const body = Buffer.from(JSON.stringify(command), 'utf8');
    const now = Date.now();
    const claims = {
      issuedAt: new Date(now - 1_000).toISOString(),
      expiresAt: new Date(now + 15 * 60_000).toISOString(),
      messageId: command.messageId,
      type: command.type,
      nodeId: command.nodeId,
      executionId: command.payload.executionId,
      ...overrides,
    };
    return { body, headers: signCommand({ keyId: this.keyId, privateKey: this.#privateKey }, claims, body) };
  }
}
