import type { Envelope } from 'rabbitmq-client';

interface OutboundMessage {
  messageId: string;
  type: string;
  correlationId: string;
  occurredAt: string;
}

/**
 * The AMQP properties every agent message carries: persistent, JSON, the envelope's ids, and the
 * publishing user when enrolled (validated by the broker: the control plane learns the sender
 * from it, not from the body).
 */
export function publishProperties(message: OutboundMessage, userId?: string): Envelope {
  return {
    durable: true,
    messageId: message.messageId,
    type: message.type,
    correlationId: message.correlationId,
    contentType: 'application/json',
    timestamp: Math.floor(Date.parse(message.occurredAt) / 1000),
    ...(userId === undefined ? {} : { userId }),
  };
}

/** The message as UTF-8 JSON bytes (sent as is, not re-encoded by the client). */
export function jsonBody(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}
