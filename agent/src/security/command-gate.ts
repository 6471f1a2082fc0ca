import { decodeJson } from '@meridian/contracts/messages/agent-message';
import type { CommandRejected } from '@meridian/contracts/messages/command-rejected';
import { encodeJson } from '@meridian/contracts/json-depth';
import { verifyCommand } from '@meridian/contracts/security/command-signature';
import type { AcceptedCommands } from '../state/accepted-commands.js';
import type { SigningKeys } from './signing-keys.js';

/** What the gate reads of a delivery (a rabbitmq-client AsyncMessage has all of it). */
export interface CommandDelivery {
  body: unknown;
  headers?: Record<string, unknown>;
  redelivered: boolean;
  messageId?: string;
  type?: string;
  contentType?: string;
  contentEncoding?: string;
}

/** Why a command is not acted on, with what could be read of it (for the CommandRejected report). */
export interface CommandRefusal {
  code: CommandRejected['code'];
  reason: string;
  /** The body's messageId, else the AMQP message-id. */
  messageId?: string;
  type?: string;
  correlationId?: string;
  taskId?: string;
  executionId?: string;
}

export type Admission = { ok: true; body: unknown } | { ok: false; refusal: CommandRefusal };

/** Decides whether a delivery on a command queue may be acted on; hands on its decoded body. */
export interface CommandGate {
  admit(delivery: CommandDelivery): Promise<Admission>;
}

/** Development mode: commands are not signed; the body goes to the parser as it came. */
export const developmentGate: CommandGate = {
  admit: (delivery) => Promise.resolve({ ok: true, body: delivery.body }),
};

export interface VerifyingGateOptions {
  nodeId: string;
  keys: SigningKeys;
  accepted: AcceptedCommands;
  now?: () => Date;
}

/**
 * Enrolled mode: nothing is acted on before its signature verifies (key, node, execution, validity
 * window; see contracts/src/security/command-signature.ts). A key id not known makes the keys
 * refresh (rate limited) and the check run once more. Then the replay set: a message id accepted
 * before is refused unless the broker flags it `redelivered` (an unacked delivery coming back
 * after a lost channel or a restart, which the use cases recognise as a duplicate, as always).
 */
export function createVerifyingGate(options: VerifyingGateOptions): CommandGate {
  const now = options.now ?? (() => new Date());
  return {
    async admit(delivery) {
      const bytes = bodyBytes(delivery);
      const decoded = decodeJson(bytes);
      const ids = idsOf(decoded.ok ? decoded.message : undefined, delivery);
      const refuse = (code: CommandRefusal['code'], reason: string): Admission => ({
        ok: false,
        refusal: { code, reason, ...ids },
      });
      if (!decoded.ok) return refuse('invalid', decoded.reason);

      const command = {
        headers: delivery.headers,
        body: bytes,
        messageId: ids.messageId ?? '',
        type: ids.type ?? '',
        nodeId: ids.nodeId ?? '',
        executionId: ids.executionId ?? '',
      };
      let check = verifyCommand(command, options.keys.keys, options.nodeId, now());
      if (!check.ok && check.code === 'unknown-key' && (await options.keys.refresh())) {
        check = verifyCommand(command, options.keys.keys, options.nodeId, now());
      }
      if (!check.ok) return refuse(check.code, check.reason);

      const { messageId } = check.claims;
      if (options.accepted.has(messageId)) {
        if (!delivery.redelivered) return refuse('replayed', `command ${messageId} was accepted before`);
      } else {
        options.accepted.add(messageId, check.claims.expiresAt);
      }
      return { ok: true, body: decoded.message };
    },
  };
}

/**
 * The bytes the control plane signed. rabbitmq-client hands an `application/json` body over
 * already parsed: the control plane publishes JSON.stringify output, which encodeJson gives back
 * byte for byte from the parsed value. Anything else arrives as the bytes themselves.
 */
export function bodyBytes(delivery: CommandDelivery): Buffer {
  const { body } = delivery;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string' && delivery.contentType !== 'application/json')
    return Buffer.from(body, 'utf8');
  return Buffer.from(encodeJson(body), 'utf8');
}

interface CommandIds extends Omit<CommandRefusal, 'code' | 'reason'> {
  nodeId?: string;
}

function idsOf(message: unknown, delivery: CommandDelivery): CommandIds {
  const envelope = isRecord(message) ? message : {};
  const payload = isRecord(envelope['payload']) ? envelope['payload'] : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    messageId: text(envelope['messageId']) ?? delivery.messageId,
    type: text(envelope['type']) ?? delivery.type,
    nodeId: text(envelope['nodeId']),
    correlationId: text(envelope['correlationId']),
    taskId: text(payload['taskId']),
    executionId: text(payload['executionId']),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
