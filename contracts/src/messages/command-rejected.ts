import { z } from 'zod';
import { identifierText, programText } from '../storable.js';
import { REASON_MAX_BYTES } from './limits.js';

export const COMMAND_REJECTED = 'CommandRejected';
export const COMMAND_REJECTED_SCHEMA_VERSION = 1;

/**
 * Agent → control plane (protocol version 2): the agent refused a command it received, and says
 * why. Ids are as the command's body gave them, when it could be read; the control plane trusts
 * the report only as far as its validated sender goes.
 */
export const CommandRejectedSchema = z.object({
  /** The refused command's messageId (AMQP message-id when the body was unreadable). */
  commandMessageId: identifierText(200),
  commandType: identifierText(100),
  taskId: z.uuid().optional(),
  executionId: z.uuid().optional(),
  code: z.enum([
    'missing-signature',
    'unknown-key',
    'bad-signature',
    'expired',
    'not-yet-valid',
    'wrong-node',
    'mismatch',
    'replayed',
    'invalid',
  ]),
  reason: programText(REASON_MAX_BYTES),
});
export type CommandRejected = z.infer<typeof CommandRejectedSchema>;
