import { z } from 'zod';
import { INT4_MAX, identifierText, isoTimestamp, toStorableClampedText } from '../storable.js';
import { AGENT_EVENT_SCHEMA_VERSION, type TaskFailed } from './agent-events.js';
import { parseAgentMessage } from './agent-message.js';
import { buildEnvelope, NodeIdSchema, type EnvelopeOf } from './envelope.js';
import { ERROR_MAX_BYTES } from './limits.js';

/** The reports that say how an execution ended. */
export const END_REPORT_TYPES = ['TaskCompleted', 'TaskFailed', 'TaskCancelled'] as const;
export type EndReportType = (typeof END_REPORT_TYPES)[number];

/** Prefix of the `error` of a `TaskFailed` made from an end report that could not be read. */
export const INVALID_END_REPORT_ERROR = 'invalid end report';

/** What can still be read from an invalid end report: enough to say which execution ended. */
export interface SalvagedEndReport {
  type: EndReportType;
  messageId: string;
  nodeId: string;
  correlationId: string | undefined;
  occurredAt: string | undefined;
  taskId: string;
  executionId: string;
  /** Clamped to INT4_MAX: an end report outranks every report of its execution. */
  sequence: number;
}

/* Only these fields are looked at: the rest of the message (the reason it is invalid) is skipped. */
const SalvageableSchema = z.object({
  type: z.enum(END_REPORT_TYPES),
  messageId: z.uuid(),
  nodeId: NodeIdSchema,
  correlationId: z.unknown(),
  occurredAt: z.unknown(),
  payload: z.object({
    taskId: z.uuid(),
    executionId: z.uuid(),
    sequence: z.number().int().min(0),
  }),
});

const CorrelationIdSchema = identifierText(200);
const OccurredAtSchema = isoTimestamp();

function decode(raw: unknown): unknown {
  if (!(Buffer.isBuffer(raw) || raw instanceof Uint8Array || typeof raw === 'string')) return raw;
  try {
    // JSON.parse does not recurse: a body too deep for the parsers can still be read here.
    return JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Reads the type, ids and sequence of an end report that failed validation, from its raw bytes
 * (or decoded value). Undefined when it is not an end report or one of those does not parse.
 */
export function salvageEndReport(raw: unknown): SalvagedEndReport | undefined {
  const parsed = SalvageableSchema.safeParse(decode(raw));
  if (!parsed.success) return undefined;
  const { type, messageId, nodeId, payload } = parsed.data;
  const correlationId = CorrelationIdSchema.safeParse(parsed.data.correlationId);
  const occurredAt = OccurredAtSchema.safeParse(parsed.data.occurredAt);
  return {
    type,
    messageId,
    nodeId,
    correlationId: correlationId.success ? correlationId.data : undefined,
    occurredAt: occurredAt.success ? occurredAt.data : undefined,
    taskId: payload.taskId,
    executionId: payload.executionId,
    sequence: Math.min(payload.sequence, INT4_MAX),
  };
}

/**
 * The `TaskFailed` that stands for an end report that is invalid even after clamping: same
 * messageId (a redelivery is a duplicate), node, execution and sequence, so that it goes through
 * the same checks as any report; `error` says why, and it is not retryable, because the work may
 * well have run to its end.
 */
export function failureOfInvalidEndReport(
  salvaged: SalvagedEndReport,
  reason: string,
  now: Date,
): EnvelopeOf<'TaskFailed', TaskFailed> {
  const payload: TaskFailed = {
    taskId: salvaged.taskId,
    executionId: salvaged.executionId,
    sequence: salvaged.sequence,
    error: toStorableClampedText(`${INVALID_END_REPORT_ERROR}: ${reason}`, ERROR_MAX_BYTES),
    exitCode: null,
    retryable: false,
  };
  const message = buildEnvelope(
    'TaskFailed',
    AGENT_EVENT_SCHEMA_VERSION,
    {
      messageId: salvaged.messageId,
      occurredAt: salvaged.occurredAt ? new Date(salvaged.occurredAt) : now,
      correlationId: salvaged.correlationId ?? salvaged.messageId,
      nodeId: salvaged.nodeId,
    },
    payload,
  );
  const checked = parseAgentMessage(message);
  if (!checked.ok || checked.message.type !== 'TaskFailed') {
    throw new Error(
      `a failure made from an invalid end report is itself invalid: ${checked.ok ? '' : checked.reason}`,
    );
  }
  return checked.message;
}
