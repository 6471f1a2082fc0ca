import { sign, verify, type KeyObject } from 'node:crypto';
import { encodeJson } from '@meridian/contracts/json-depth';
import type { SigningKey } from '@meridian/contracts/security/command-signature';

/**
 * The broker-validated sender (AMQP `user_id`) of an agent message that the control plane
 * publishes again itself: a dead letter (to the dead-letter queue) and a re-driven one (back to
 * its source). The broker sets no `user_id` on those (the control plane cannot publish in a node's
 * name), so the original sender travels in a header, signed with the command-signing key: a
 * consumer believes the header only when the signature verifies, so nobody who can publish to
 * these exchanges (the shared login, in development) can lend a message an enrolled node's name.
 */
export const ORIGINAL_SENDER_HEADERS = {
  sender: 'x-meridian-original-sender',
  signature: 'x-meridian-sender-signature',
} as const;

const SIGNED_LABEL = 'meridian-original-sender-v1';

/** What is signed: a label, the sender, the message id, one per line, then the body's bytes. */
function signedBytes(sender: string, messageId: string, body: Buffer): Buffer | null {
  if (sender.includes('\n') || messageId.includes('\n')) return null;
  return Buffer.concat([Buffer.from(`${SIGNED_LABEL}\n${sender}\n${messageId}\n`, 'utf8'), body]);
}

/** The headers that carry `sender` with a message of id `messageId` and body `body`, as published. */
export function originalSenderHeaders(
  key: SigningKey,
  sender: string,
  messageId: string,
  body: Buffer,
): Record<string, string> {
  const bytes = signedBytes(sender, messageId, body);
  if (!bytes) return {};
  return {
    [ORIGINAL_SENDER_HEADERS.sender]: sender,
    [ORIGINAL_SENDER_HEADERS.signature]: sign(null, bytes, key.privateKey).toString('base64'),
  };
}

/**
 * The bytes a consumer reads back from `body` published as `application/json`: the client decodes
 * such a body when it is JSON and the consumer encodes it again, so a signature over a body that is
 * published that way (a re-drive) covers this form.
 */
export function bodyAsConsumersReadIt(body: Buffer): Buffer {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString());
  } catch {
    return body;
  }
  return Buffer.from(encodeJson(decoded), 'utf8');
}

/**
 * The original sender named by a message's headers, when one of `keys` signed it for this message
 * id and body; null otherwise (no header, or a signature that does not verify).
 */
export function verifiedOriginalSender(
  headers: Readonly<Record<string, unknown>> | undefined,
  messageId: string | undefined,
  body: Buffer,
  keys: ReadonlyMap<string, KeyObject>,
): string | null {
  const sender = headers?.[ORIGINAL_SENDER_HEADERS.sender];
  const signature = headers?.[ORIGINAL_SENDER_HEADERS.signature];
  if (typeof sender !== 'string' || typeof signature !== 'string' || !sender) return null;
  const bytes = signedBytes(sender, messageId ?? '', body);
  if (!bytes) return null;
  const signatureBytes = Buffer.from(signature, 'base64');
  for (const key of keys.values()) {
    try {
      if (verify(null, bytes, key, signatureBytes)) return sender;
    } catch {
      // not a signature this key can check: try the next
    }
  }
  return null;
}
