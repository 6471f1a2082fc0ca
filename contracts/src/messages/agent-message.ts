import type { z } from 'zod';
import { MESSAGE_MAX_DEPTH, jsonDepthExceeds, jsonValueDepthExceeds } from '../json-depth.js';
import { EnvelopeSchema, type EnvelopeOf } from './envelope.js';
import {
  EXECUTION_REPORT_SCHEMAS,
  type ExecutionReportType,
  type TaskAccepted,
  type TaskCancelled,
  type TaskCompleted,
  type TaskFailed,
  type TaskProgress,
  type TaskStarted,
} from './agent-events.js';
import { AGENT_HEARTBEAT, AgentHeartbeatSchema, type AgentHeartbeat } from './agent-heartbeat.js';
import { COMMAND_REJECTED, CommandRejectedSchema, type CommandRejected } from './command-rejected.js';

/** Every message an agent may send to the control plane. */
export type AgentMessage =
  | EnvelopeOf<'TaskAccepted', TaskAccepted>
  | EnvelopeOf<'TaskStarted', TaskStarted>
  | EnvelopeOf<'TaskProgress', TaskProgress>
  | EnvelopeOf<'TaskCompleted', TaskCompleted>
  | EnvelopeOf<'TaskFailed', TaskFailed>
  | EnvelopeOf<'TaskCancelled', TaskCancelled>
  | EnvelopeOf<'AgentHeartbeat', AgentHeartbeat>
  | EnvelopeOf<'CommandRejected', CommandRejected>;

/** The reports about one execution, ordered by their `sequence`. */
export type ExecutionReport = Exclude<AgentMessage, { type: 'AgentHeartbeat' | 'CommandRejected' }>;
export type CommandRejectedMessage = Extract<AgentMessage, { type: 'CommandRejected' }>;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; reason: string };

const AGENT_MESSAGE_SCHEMAS: Record<string, z.ZodType> = {
  ...EXECUTION_REPORT_SCHEMAS,
  [AGENT_HEARTBEAT]: AgentHeartbeatSchema,
  [COMMAND_REJECTED]: CommandRejectedSchema,
};

/** Reasons end up in logs and dead-letter headers: keys of a hostile message are cut short. */
const PATH_SEGMENT_MAX_LENGTH = 60;
const REASON_MAX_LENGTH = 1000;

function describeIssues(error: z.ZodError, prefix: string): string {
  const reason = error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [
        prefix,
        ...issue.path.map((segment) => String(segment).slice(0, PATH_SEGMENT_MAX_LENGTH)),
      ];
      return `${path.filter(Boolean).join('.') || '(root)'}: ${issue.message}`;
    })
    .join('; ');
  return reason.length > REASON_MAX_LENGTH ? `${reason.slice(0, REASON_MAX_LENGTH)}…` : reason;
}

/**
 * Decodes raw bytes (or an already decoded value) into JSON, or says why it cannot. Bytes nested
 * deeper than MESSAGE_MAX_DEPTH are refused before parsing: nothing recursive ever sees them.
 */
export function decodeJson(raw: unknown): ParseResult<unknown> {
  if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) {
    if (jsonDepthExceeds(raw, MESSAGE_MAX_DEPTH)) {
      return { ok: false, reason: `body is nested deeper than ${MESSAGE_MAX_DEPTH} levels` };
    }
    try {
      return { ok: true, message: JSON.parse(Buffer.from(raw).toString('utf8')) as unknown };
    } catch (error) {
      return { ok: false, reason: `body is not valid JSON: ${(error as Error).message.slice(0, 200)}` };
    }
  }
  if (typeof raw === 'string') return decodeJson(Buffer.from(raw, 'utf8'));
  if (jsonValueDepthExceeds(raw, MESSAGE_MAX_DEPTH)) {
    return { ok: false, reason: `message is nested deeper than ${MESSAGE_MAX_DEPTH} levels` };
  }
  return { ok: true, message: raw };
}

/**
 * Validates an inbound message: the envelope first, then the payload schema of its type among
 * `schemas` (a type missing there is refused). Returns the message or the reason; never throws.
 */
export function parseMessageOf<T>(
  raw: unknown,
  schemas: Readonly<Record<string, z.ZodType>>,
): ParseResult<T> {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  const envelope = EnvelopeSchema.safeParse(decoded.message);
  if (!envelope.success)
    return { ok: false, reason: `invalid envelope: ${describeIssues(envelope.error, '')}` };
  const schema = Object.hasOwn(schemas, envelope.data.type) ? schemas[envelope.data.type] : undefined;
  if (!schema) return { ok: false, reason: `unknown message type "${envelope.data.type}"` };
  const payload = schema.safeParse(envelope.data.payload);
  if (!payload.success) {
    return {
      ok: false,
      reason: `invalid ${envelope.data.type}: ${describeIssues(payload.error, 'payload')}`,
    };
  }
  return { ok: true, message: { ...envelope.data, payload: payload.data } as T };
}

/** Validates any inbound agent message (reports, heartbeats and command refusals). */
export function parseAgentMessage(raw: unknown): ParseResult<AgentMessage> {
  return parseMessageOf<AgentMessage>(raw, AGENT_MESSAGE_SCHEMAS);
}

export function isExecutionReport(message: AgentMessage): message is ExecutionReport {
  return message.type in EXECUTION_REPORT_SCHEMAS;
}

export type { ExecutionReportType };
