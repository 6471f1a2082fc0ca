import { z } from 'zod';

/** Version of the wire protocol spoken by this build. Agents announce theirs in every heartbeat. */
export const PROTOCOL_VERSION = 1;

/**
 * Every message on the broker is one JSON envelope. Unknown extra fields are tolerated (zod strips
 * them) so that a newer peer can add fields without breaking an older one; a missing required field
 * is a validation failure.
 */
export const EnvelopeSchema = z.object({
  messageId: z.uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(200),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export interface EnvelopeOf<TType extends string, TPayload> {
  messageId: string;
  type: TType;
  schemaVersion: number;
  occurredAt: string;
  correlationId: string;
  nodeId: string;
  payload: TPayload;
}

export interface EnvelopeFields {
  messageId: string;
  occurredAt: Date;
  correlationId: string;
  nodeId: string;
}

/** Builds an envelope; ids and time are arguments so that callers stay deterministic in tests. */
export function buildEnvelope<TType extends string, TPayload>(
  type: TType,
  schemaVersion: number,
  fields: EnvelopeFields,
  payload: TPayload,
): EnvelopeOf<TType, TPayload> {
  return {
    messageId: fields.messageId,
    type,
    schemaVersion,
    occurredAt: fields.occurredAt.toISOString(),
    correlationId: fields.correlationId,
    nodeId: fields.nodeId,
    payload,
  };
}
