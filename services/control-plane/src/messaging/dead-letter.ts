import type { AsyncMessage, Publisher } from 'rabbitmq-client';
import { encodeJson } from '@meridian/contracts/json-depth';
import { DEAD_LETTER_REASON_HEADER } from '@meridian/contracts/topology';

/** Where a consumer parks what it cannot process: the dead-letter exchange, keyed by the source. */
export interface DeadLetterTarget {
  exchange: string;
  routingKey: string;
}

/**
 * Publishes a delivery, unchanged, to the dead-letter exchange with the reason in a header (and the
 * routing key it came with). The caller acks the original afterwards: never requeued, never lost.
 */
export async function deadLetter(
  publisher: Publisher,
  target: DeadLetterTarget,
  message: AsyncMessage,
  reason: string,
): Promise<void> {
  await publisher.send(
    {
      exchange: target.exchange,
      routingKey: target.routingKey,
      messageId: message.messageId,
      type: message.type,
      correlationId: message.correlationId,
      contentType: message.contentType,
      durable: true,
      headers: {
        ...message.headers,
        [DEAD_LETTER_REASON_HEADER]: reason,
        'x-meridian-original-routing-key': message.routingKey,
      },
    },
    rawBody(message),
  );
}

/** The body as bytes: rabbitmq-client decodes JSON bodies itself, and validation needs the raw form. */
export function rawBody(message: AsyncMessage): Buffer {
  const body: unknown = message.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(encodeJson(body ?? null), 'utf8');
}
