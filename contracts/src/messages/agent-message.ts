import type { z } from 'zod';
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

/** Every message an agent may send to the control plane. */
export type AgentMessage =
  | EnvelopeOf<'TaskAccepted', TaskAccepted>
  | EnvelopeOf<'TaskStarted', TaskStarted>
  | EnvelopeOf<'TaskProgress', TaskProgress>
  | EnvelopeOf<'TaskCompleted', TaskCompleted>
  | EnvelopeOf<'TaskFailed', TaskFailed>
  | EnvelopeOf<'TaskCancelled', TaskCancelled>
  | EnvelopeOf<'AgentHeartbeat', AgentHeartbeat>;

export type ExecutionReport = Exclude<AgentMessage, { type: 'AgentHeartbeat' }>;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; reason: string };

const AGENT_MESSAGE_SCHEMAS: Record<string, z.ZodType> = {
  ...EXECUTION_REPORT_SCHEMAS,
  [AGENT_HEARTBEAT]: AgentHeartbeatSchema,
};

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 5)
    .map(
      (issue) =>
        `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)'}: ${issue.message}`,
    )
    .join('; ');
}

/** Decodes raw bytes (or an already decoded value) into JSON, or says why it cannot. */
export function decodeJson(raw: unknown): ParseResult<unknown> {
  if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) {
    try {
      return { ok: true, message: JSON.parse(Buffer.from(raw).toString('utf8')) as unknown };
    } catch (error) {
      return { ok: false, reason: `body is not valid JSON: ${(error as Error).message}` };
    }
  }
  if (typeof raw === 'string') return decodeJson(Buffer.from(raw, 'utf8'));
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

/** Validates any inbound agent message (reports and heartbeats). */
export function parseAgentMessage(raw: unknown): ParseResult<AgentMessage> {
  return parseMessageOf<AgentMessage>(raw, AGENT_MESSAGE_SCHEMAS);
}

export function isExecutionReport(message: AgentMessage): message is ExecutionReport {
  return message.type in EXECUTION_REPORT_SCHEMAS;
}

export type { ExecutionReportType };
