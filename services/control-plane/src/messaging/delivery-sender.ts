import type { KeyObject } from 'node:crypto';
import type { AsyncMessage } from 'rabbitmq-client';
import { senderOf, type MessageSender } from '../domain/sender-decision.js';
import type { Received } from '../app/resolve-senders.js';
import { verifiedOriginalSender } from '../security/original-sender.js';
import { rawBody } from './dead-letter.js';

/**
 * Who sent a delivery: its AMQP `user_id`, which the broker checked against the publisher's login.
 * A delivery without one may be a message the control plane re-drove: its original sender is
 * believed from its headers only when this control plane's signature over them verifies.
 */
export function senderOfDelivery(message: AsyncMessage, keys: ReadonlyMap<string, KeyObject>): MessageSender {
  if (message.userId) return senderOf(message.userId);
  let body: Buffer;
  try {
    body = rawBody(message);
  } catch {
    return senderOf(undefined);
  }
  return senderOf(verifiedOriginalSender(message.headers, message.messageId, body, keys));
}

/** Copies of one message are one item of a batch only when they come from the same sender. */
export function receivedKey(item: Received<{ messageId: string }>): string {
  const { sender } = item;
  return `${sender.kind === 'user' ? `user:${sender.userId}` : sender.kind}\n${item.message.messageId}`;
}
