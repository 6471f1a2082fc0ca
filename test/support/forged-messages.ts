import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { buildEnvelope, type EnvelopeOf } from '@meridian/contracts/messages/envelope';
import { waitFor } from './wait-for.js';

/**
 * Messages as a hostile agent writes them (well-formed, so that only who sends them is wrong), and
 * how a test sees what the control plane made of them: a refused message ends as a dead letter
 * with its reason and its broker-validated sender; a refused command as a CommandRejected report.
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

export interface RecordedRejection {
  /** Where the control plane put the node's CommandRejected report. */
  recordedAs: 'node event' | 'task event' | 'dead letter';
  /** The event's data, or the dead letter's reason and body. */
  details: string;
}

/**
 * Waits for the CommandRejected report of a command from `nodeId`: a node event (and a task event)
 * when the node owns the command's execution, or a dead letter when the control plane refused the
 * report itself; either way the refusal is on record. An event is recognised by the command's
 * message id, or by the refusal's code (a test gives each command it forges a code of its own).
 */
export async function waitForCommandRejection(
  db: pg.Pool,
  rejection: { nodeId: string; commandMessageId: string; code: string },
  timeoutMs = 20_000,
): Promise<RecordedRejection> {
  const { nodeId, commandMessageId, code } = rejection;
  const matches = `(data::text LIKE $1 OR data->>'code' = $2)`;
  const params = [`%${commandMessageId}%`, code];
  return waitFor(
    async () => {
      const nodeEvents = await db.query<{ data: unknown }>(
        `SELECT data FROM node_events WHERE node_id = $3 AND type = 'CommandRejected' AND ${matches}`,
        [...params, nodeId],
      );
      if (nodeEvents.rows[0])
        return { recordedAs: 'node event' as const, details: text(nodeEvents.rows[0].data) };
      const taskEvents = await db.query<{ data: unknown }>(
        `SELECT data FROM task_events WHERE type = 'CommandRejected' AND ${matches}`,
        params,
      );
      if (taskEvents.rows[0])
        return { recordedAs: 'task event' as const, details: text(taskEvents.rows[0].data) };
      const deadLetters = await db.query<{ reason: string; body: Buffer | null }>(
        `SELECT reason, body FROM dead_letters
          WHERE message_type = 'CommandRejected' AND position(convert_to($1, 'UTF8') in body) > 0`,
        [commandMessageId],
      );
      const dead = deadLetters.rows[0];
      if (dead) {
        return {
          recordedAs: 'dead letter' as const,
          details: `${dead.reason} ${dead.body?.toString('utf8')}`,
        };
      }
      return undefined;
    },
    { timeoutMs, description: `node ${nodeId} to report command ${commandMessageId} rejected` },
  );
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
