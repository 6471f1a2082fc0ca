import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { buildEnvelope, type EnvelopeOf } from '@meridian/contracts/messages/envelope';
import { waitFor } from './wait-for.js';

/**
 * Messages as a hostile agent writes them (well-formed, so that only who sends them is wrong), and
 * how a test sees what the control plane made of them: a refused message ends as a dead letter
 * with its reason and its broker-validated sender; a command an agent refused, as a CommandRejected
 * node event.
 */
export function agentEnvelope<T>(type: string, nodeId: string, payload: T): EnvelopeOf<string, T> {
  return buildEnvelope(
    type,
    1,
    { messageId: randomUUID(), occurredAt: new Date(), correlationId: `forged-${type}`, nodeId },
    payload,
  );
}

export function heartbeatPayload(claim: { nodeId: string; orgId: string; protocolVersion?: number }) {
  return {
    nodeId: claim.nodeId,
    orgId: claim.orgId,
    agentId: `forged-${claim.nodeId}`,
    agentVersion: '0.0.0-forged',
    protocolVersion: claim.protocolVersion ?? 2,
    capacity: 10,
    runningExecutions: [],
    labels: {},
  };
}

export interface DeadLetterRow {
  message_id: string;
  reason: string;
  sender: string | null;
}

/** Waits until every message of `messageIds` is in `dead_letters` (stored from the dead-letter queue). */
export async function waitForDeadLetters(
  db: pg.Pool,
  messageIds: readonly string[],
  timeoutMs = 15_000,
): Promise<DeadLetterRow[]> {
  return waitFor(
    async () => {
      const { rows } = await db.query<DeadLetterRow>(
        'SELECT message_id, reason, sender FROM dead_letters WHERE message_id = ANY($1::text[])',
        [messageIds],
      );
      return rows.length >= messageIds.length ? rows : undefined;
    },
    { timeoutMs, description: `dead letters for ${messageIds.join(', ')}` },
  );
}

/** Whether the control plane recorded any of `messageIds` as processed (applied or ignored). */
export async function processedMessages(db: pg.Pool, messageIds: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ message_id: string }>(
    'SELECT message_id::text FROM processed_messages WHERE message_id = ANY($1::uuid[])',
    [messageIds],
  );
  return rows.map((row) => row.message_id);
}

export interface CommandRejectedEvent {
  commandMessageId: string;
  commandType: string;
  code: string;
  reason: string;
  taskId?: string;
  executionId?: string;
}

/**
 * Waits for the `CommandRejected` node event of `commandMessageId` from `nodeId`: the node's report
 * that it refused the command, as the control plane recorded it. Returns the event's data.
 */
export async function waitForCommandRejection(
  db: pg.Pool,
  nodeId: string,
  commandMessageId: string,
  timeoutMs = 20_000,
): Promise<CommandRejectedEvent> {
  return waitFor(
    async () => {
      const { rows } = await db.query<{ data: CommandRejectedEvent }>(
        `SELECT data FROM node_events
          WHERE node_id = $1 AND type = 'CommandRejected' AND data->>'commandMessageId' = $2`,
        [nodeId, commandMessageId],
      );
      return rows[0]?.data;
    },
    { timeoutMs, description: `node ${nodeId} to report command ${commandMessageId} rejected` },
  );
}
