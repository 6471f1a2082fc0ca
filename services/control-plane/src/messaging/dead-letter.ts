import type { AsyncMessage, Connection, Publisher } from 'rabbitmq-client';
import type { Topology } from '@meridian/contracts/topology';
import { controlPlaneDeclarations } from './broker-topology.js';
import { DEAD_LETTER_LIMITS, deadLetterHeaders, truncateUtf8 } from './dead-letter-headers.js';
import { encodeJson } from '@meridian/contracts/json-depth';
import type { SigningKey } from '@meridian/contracts/security/command-signature';
import { userIdOf, type MessageSender } from '../domain/sender-decision.js';
import { originalSenderHeaders } from '../security/original-sender.js';

/** Where a consumer parks what it cannot process: the dead-letter exchange, keyed by the source. */
export interface DeadLetterTarget {
  exchange: string;
  routingKey: string;
}

/** Who sent the message being dead-lettered, and the key that vouches for it in the dead letter. */
export interface DeadLetterSender {
  sender: MessageSender;
  key: SigningKey;
}

/**
 * The publisher of dead letters: a channel of its own with confirms, apart from the one that sends
 * commands, so that a dead letter the broker refuses (and the channel error that follows) cannot
 * fail a command publish. It declares the dead-letter exchange, queues and their bindings.
 */
export function createDeadLetterPublisher(connection: Connection, topology: Topology): Publisher {
  const declarations = controlPlaneDeclarations(topology);
  return connection.createPublisher({
    confirm: true,
    maxAttempts: 2,
    exchanges: declarations.exchanges.filter((e) => e.exchange === topology.deadLetterExchange),
    // The dead-letter queues and their bindings are declared by their consumers (the dead-letter
    // store), at start-up: one declarer per quorum queue (docs/reliability.md).
  });
}

/**
 * Publishes a delivery to the dead-letter exchange with the reason in a header, the original
 * routing key, message id, type and body size, and a bounded part of the original headers
 * (dead-letter-headers.ts): whatever the original carried, the dead letter fits in one frame. The
 * body is kept as is up to 1 MiB, else only its head (marked truncated). The original's sender
 * (its broker user), when it had one, goes along in signed headers (security/original-sender.ts):
 * the dead letter is published by the control plane, which cannot set another user's `user_id`.
 * The caller acks the original afterwards: never requeued, never lost.
 *
 * `publisher` is the dead-letter publisher, a channel of its own with confirms: a dead letter the
 * broker refuses can close that channel, never the one that sends commands.
 */
export async function deadLetter(
  publisher: Publisher,
  target: DeadLetterTarget,
  message: AsyncMessage,
  reason: string,
  from?: DeadLetterSender,
): Promise<void> {
  const body = rawBody(message);
  const truncated = body.length > DEAD_LETTER_LIMITS.bodyBytes;
  const short = (value: string | undefined, maxBytes: number = DEAD_LETTER_LIMITS.shortStringBytes) =>
    value === undefined ? undefined : truncateUtf8(value, maxBytes);
  const messageId = short(message.messageId);
  const published = truncated ? body.subarray(0, DEAD_LETTER_LIMITS.truncatedBodyBytes) : body;
  const userId = from ? userIdOf(from.sender) : null;
  const senderHeaders =
    from && userId ? originalSenderHeaders(from.key, userId, messageId ?? '', published) : {};
  await publisher.send(
    {
      exchange: target.exchange,
      routingKey: target.routingKey,
      messageId,
      type: short(message.type, DEAD_LETTER_LIMITS.typeBytes),
      correlationId: short(message.correlationId),
      contentType: short(message.contentType),
      durable: true,
      headers: {
        ...deadLetterHeaders(
          { headers: message.headers, routingKey: message.routingKey, bodyBytes: body.length },
          reason,
          truncated,
        ),
        ...senderHeaders,
      },
    },
    published,
  );
}

/** The body as bytes: rabbitmq-client decodes JSON bodies itself, and validation needs the raw form. */
export function rawBody(message: AsyncMessage): Buffer {
  const body: unknown = message.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(encodeJson(body ?? null), 'utf8');
}
