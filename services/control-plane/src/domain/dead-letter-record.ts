import { DEAD_LETTER_REASON_HEADER } from '@meridian/contracts/topology';

/**
 * What the control plane keeps of a message that landed on a dead-letter queue. Everything in a
 * dead letter may be hostile (it is there because it is bad): every text is stripped of NUL
 * characters (PostgreSQL cannot store them) and clamped, headers are bounded in number, depth and
 * size, the body in bytes, and ids are used only when they have the shape of their column.
 */
export interface DeadLetterDelivery {
  queue: string;
  /**
   * The exchange the consumers of this dead-letter queue's source read from: the only place a
   * re-drive publishes to, whatever the message's headers claim (a sender writes its headers).
   */
  sourceExchange: string;
  messageId?: string | undefined;
  type?: string | undefined;
  correlationId?: string | undefined;
  headers?: Record<string, unknown> | undefined;
  /** Null when the body could not be read back (a JSON body the client decoded and cannot re-encode). */
  body: Buffer | null;
  receivedAt: Date;
  /** The original's broker-validated sender (AMQP `user_id`), when it had one. */
  sender?: string | null | undefined;
}

export interface DeadLetterLimits {
  bodyMaxBytes: number;
  /** Size of the stored headers as JSON text. */
  headersMaxBytes: number;
}

/** Ids a dead letter names, to find its organisation. Only well-formed ones. */
export interface OrgReference {
  executionId: string | null;
  taskId: string | null;
  nodeId: string | null;
  payloadOrgId: string | null;
}

export interface DeadLetterRecord {
  queue: string;
  reason: string;
  messageType: string | null;
  messageId: string | null;
  correlationId: string | null;
  originalExchange: string;
  originalRoutingKey: string | null;
  headers: Record<string, unknown>;
  body: Buffer | null;
  bodySize: number | null;
  bodyTruncated: boolean;
  deadLetteredAt: Date;
  orgReference: OrgReference;
  sender: string | null;
}

const ORIGINAL_ROUTING_KEY_HEADER = 'x-meridian-original-routing-key';
const TEXT_MAX = 1000;
/** AMQP short strings: 255 bytes, here counted in characters of the ASCII keys the topology uses. */
const ROUTING_KEY_MAX = 200;
const REASON_MAX = 2000;
const HEADER_VALUE_DEPTH = 4;
const HEADER_COUNT_MAX = 50;
const ARRAY_ITEMS_MAX = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function describeDeadLetter(delivery: DeadLetterDelivery, limits: DeadLetterLimits): DeadLetterRecord {
  const headers = delivery.headers ?? {};
  const firstDeath = firstDeathOf(headers);
  const body = delivery.body;
  const bodyTruncated = body !== null && body.length > limits.bodyMaxBytes;
  const type = text(delivery.type);
  return {
    queue: text(delivery.queue) ?? '',
    reason: reasonOf(headers, firstDeath),
    messageType: type,
    messageId: text(delivery.messageId),
    correlationId: text(delivery.correlationId),
    originalExchange: delivery.sourceExchange,
    originalRoutingKey:
      text(headers[ORIGINAL_ROUTING_KEY_HEADER], ROUTING_KEY_MAX) ??
      firstRoutingKey(firstDeath) ??
      text(type, ROUTING_KEY_MAX) ??
      '',
    headers: boundHeaders(headers, limits.headersMaxBytes),
    body: body === null ? null : bodyTruncated ? body.subarray(0, limits.bodyMaxBytes) : body,
    bodySize: body === null ? null : body.length,
    bodyTruncated,
    deadLetteredAt: deathTimeOf(firstDeath) ?? delivery.receivedAt,
    orgReference: bodyTruncated || body === null ? noReference() : orgReferenceOf(body),
    sender: text(delivery.sender, ROUTING_KEY_MAX),
  };
}

function reasonOf(headers: Record<string, unknown>, firstDeath: Record<string, unknown> | undefined): string {
  const given = text(headers[DEAD_LETTER_REASON_HEADER], REASON_MAX);
  if (given) return given;
  const brokerReason = text(headers['x-first-death-reason']) ?? text(firstDeath?.['reason']);
  if (brokerReason) {
    const queue = text(headers['x-first-death-queue']) ?? text(firstDeath?.['queue']);
    return `broker: ${brokerReason}${queue ? ` on ${queue}` : ''}`;
  }
  return 'unknown: the message carries no dead-letter reason';
}

/** The oldest entry of RabbitMQ's `x-death` (the first time this message was dead-lettered). */
function firstDeathOf(headers: Record<string, unknown>): Record<string, unknown> | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const last: unknown = deaths[deaths.length - 1];
  return isRecord(last) ? last : undefined;
}

function firstRoutingKey(death: Record<string, unknown> | undefined): string | null {
  const keys = death?.['routing-keys'];
  return Array.isArray(keys) ? text(keys[0], ROUTING_KEY_MAX) : null;
}

/** AMQP timestamps are whole seconds; rabbitmq-client decodes them as numbers. */
function deathTimeOf(death: Record<string, unknown> | undefined): Date | null {
  const time = death?.['time'];
  if (typeof time === 'number' && Number.isFinite(time) && time > 0 && time < 1e11)
    return new Date(time * 1000);
  if (time instanceof Date && !Number.isNaN(time.getTime())) return time;
  return null;
}

function noReference(): OrgReference {
  return { executionId: null, taskId: null, nodeId: null, payloadOrgId: null };
}

/** The ids of an envelope `{ nodeId, payload: { executionId?, taskId?, orgId? } }`, if the body is one. */
export function orgReferenceOf(body: Buffer): OrgReference {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return noReference();
  }
  if (!isRecord(parsed)) return noReference();
  const payload = isRecord(parsed['payload']) ? parsed['payload'] : {};
  const shaped = (value: unknown, pattern: RegExp) =>
    typeof value === 'string' && pattern.test(value) ? value : null;
  const orgId = text(payload['orgId'], 200);
  return {
    executionId: shaped(payload['executionId'], UUID),
    taskId: shaped(payload['taskId'], UUID),
    nodeId: shaped(parsed['nodeId'], NODE_ID),
    payloadOrgId: orgId && orgId.trim() !== '' ? orgId : null,
  };
}

/**
 * Headers as JSON-safe values: at most HEADER_COUNT_MAX of them, the Meridian and broker ones
 * first, nested HEADER_VALUE_DEPTH deep, texts clamped, and no more than `maxBytes` of JSON in all.
 * What is left out is counted under `x-meridian-headers-omitted`.
 */
export function boundHeaders(headers: Record<string, unknown>, maxBytes: number): Record<string, unknown> {
  const names = Object.keys(headers).sort((a, b) => priority(a) - priority(b) || (a < b ? -1 : 1));
  const bounded: Record<string, unknown> = {};
  let size = 2;
  let omitted = 0;
  for (const name of names) {
    const key = text(name, 200);
    const value = jsonSafe(headers[name], HEADER_VALUE_DEPTH);
    const entrySize = JSON.stringify(key).length + JSON.stringify(value).length + 2;
    if (key === null || Object.keys(bounded).length >= HEADER_COUNT_MAX || size + entrySize > maxBytes) {
      omitted += 1;
      continue;
    }
    bounded[key] = value;
    size += entrySize;
  }
  if (omitted > 0) bounded['x-meridian-headers-omitted'] = omitted;
  return bounded;
}

function priority(name: string): number {
  if (name.startsWith('x-meridian-')) return 0;
  if (name.startsWith('x-death') || name.startsWith('x-first-death') || name.startsWith('x-last-death'))
    return 1;
  return 2;
}

function jsonSafe(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return text(value) ?? '';
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (depth <= 0) return '<nested too deep>';
  if (Array.isArray(value)) {
    const items = value.slice(0, ARRAY_ITEMS_MAX).map((item) => jsonSafe(item, depth - 1));
    if (value.length > ARRAY_ITEMS_MAX) items.push(`<${value.length - ARRAY_ITEMS_MAX} more>`);
    return items;
  }
  if (isRecord(value)) {
    const entries = Object.entries(value).slice(0, HEADER_COUNT_MAX);
    return Object.fromEntries(
      entries.map(([key, item]) => [text(key, 200) ?? '', jsonSafe(item, depth - 1)]),
    );
  }
  return null; // symbols and functions: not in AMQP tables
}

/** A string fit for a text column: NUL characters replaced, clamped; null for anything else or empty. */
export function text(value: unknown, max = TEXT_MAX): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  const clean = value.replaceAll('\u0000', '\uFFFD');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
