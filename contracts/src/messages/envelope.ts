import { z } from 'zod';
import { identifierText, int4, isoTimestamp } from '../storable.js';
import { isValidNodeId } from '../topology.js';
import { ID_MAX_LENGTH, MESSAGE_TYPE_MAX_LENGTH } from './limits.js';

/**
 * Version of the wire protocol spoken by this build. Agents announce theirs in every heartbeat.
 * 2: signed commands, per-node broker users with validated senders, CommandRejected
 * (docs/protocol.md, "Versions").
 */
export const PROTOCOL_VERSION = 2;

/** Node ids become queue names and routing keys: the protocol's alphabet, at most 200 characters. */
export const NodeIdSchema = z
  .string()
  .refine(isValidNodeId, 'letters, digits, ".", "_" and "-", at most 200, not starting with a sign');

/**
 * Every message on the broker is one JSON envelope. Unknown extra fields are tolerated (zod strips
 * them) so that a newer peer can add fields without breaking an older one; a missing required field
 * is a validation failure.
 */
export const EnvelopeSchema = z.object({
  messageId: z.uuid(),
  type: z
    .string()
    .min(1)
    .max(MESSAGE_TYPE_MAX_LENGTH)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"'),
  schemaVersion: int4(1),
  occurredAt: isoTimestamp(),
  correlationId: identifierText(ID_MAX_LENGTH),
  /** The node a command is for, or the node an agent message is from: the protocol's alphabet. */
  nodeId: NodeIdSchema,
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
