import { DEAD_LETTER_REASON_HEADER } from '@meridian/contracts/topology';

/**
 * What a dead letter may carry. Its AMQP header frame must fit in one frame of the connection
 * (8 KiB as rabbitmq-client negotiates it), and a dead letter is written by the control plane
 * about a message anyone could have sent: nothing of the original may make it large.
 */
export const DEAD_LETTER_LIMITS = {
  /** All headers together (keys and values as UTF-8), ours included. */
  headersBytes: 4096,
  /** Of that, the original headers copied over. */
  copiedHeadersBytes: 2048,
  /** One copied string header value. */
  headerValueBytes: 256,
  /** A copied header's name; longer names are dropped. */
  headerKeyBytes: 64,
  reasonBytes: 1000,
  /** AMQP short strings (message id, type, routing key…) are at most 255 bytes. */
  shortStringBytes: 255,
  typeBytes: 128,
  /**
   * A body up to this size is kept whole (any valid agent message is far smaller: a report's output
   * is clamped to 64 KiB per stream). A larger one keeps only its first `truncatedBodyBytes`, so
   * that a flood of huge messages cannot fill the broker's disk through the dead-letter queues.
   */
  bodyBytes: 1024 * 1024,
  truncatedBodyBytes: 64 * 1024,
} as const;

export const ORIGINAL_ROUTING_KEY_HEADER = 'x-meridian-original-routing-key';
export const ORIGINAL_SIZE_HEADER = 'x-meridian-original-size';
export const BODY_TRUNCATED_HEADER = 'x-meridian-body-truncated';
export const DROPPED_HEADERS_HEADER = 'x-meridian-dropped-headers';

export interface DeadLetterSource {
  headers: Record<string, unknown> | undefined;
  routingKey: string;
  bodyBytes: number;
}

/**
 * The headers of a dead letter: the reason (clamped), the original routing key and body size, and
 * as many of the original headers as fit a small budget. Only strings (clamped), numbers and
 * booleans are copied, in their order; tables, arrays, byte strings, over-long names and whatever
 * no longer fits are dropped and counted. Our own `x-meridian-*` headers of an earlier dead-lettering
 * are replaced, not copied.
 */
export function deadLetterHeaders(
  source: DeadLetterSource,
  reason: string,
  bodyTruncated: boolean,
): Record<string, unknown> {
  const own: Record<string, unknown> = {
    [DEAD_LETTER_REASON_HEADER]: truncateUtf8(reason, DEAD_LETTER_LIMITS.reasonBytes),
    [ORIGINAL_ROUTING_KEY_HEADER]: truncateUtf8(source.routingKey, DEAD_LETTER_LIMITS.shortStringBytes),
    [ORIGINAL_SIZE_HEADER]: source.bodyBytes,
  };
  if (bodyTruncated) own[BODY_TRUNCATED_HEADER] = true;

  const copied: Record<string, unknown> = {};
  let budget = DEAD_LETTER_LIMITS.copiedHeadersBytes;
  let dropped = 0;
  for (const [key, value] of Object.entries(source.headers ?? {})) {
    if (key.startsWith('x-meridian-')) continue;
    const kept = copyableValue(value);
    const cost = entrySize(key, kept);
    if (kept === undefined || Buffer.byteLength(key) > DEAD_LETTER_LIMITS.headerKeyBytes || cost > budget) {
      dropped += 1;
      continue;
    }
    copied[key] = kept;
    budget -= cost;
  }
  if (dropped > 0) own[DROPPED_HEADERS_HEADER] = dropped;
  return { ...copied, ...own };
}

/** The bytes a table of strings, numbers and booleans takes in an AMQP frame. */
export function headersSize(headers: Record<string, unknown>): number {
  return Object.entries(headers).reduce((sum, [key, value]) => sum + entrySize(key, value), 0);
}

/** At most `maxBytes` of UTF-8, cut at a character boundary, with `…` when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '…';
  const room = Math.max(0, maxBytes - Buffer.byteLength(marker));
  // Decoding a cut multi-byte character gives U+FFFD: drop it.
  const head = Buffer.from(text, 'utf8')
    .subarray(0, room)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return `${head}${marker}`;
}

function copyableValue(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string') return truncateUtf8(value, DEAD_LETTER_LIMITS.headerValueBytes);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
}

/** Name length byte + name + type byte + value (a long string has a 4-byte length; a number at most 8). */
function entrySize(key: string, value: unknown): number {
  const name = 1 + Buffer.byteLength(key) + 1;
  if (typeof value === 'string') return name + 4 + Buffer.byteLength(value);
  if (typeof value === 'number') return name + 8;
  if (typeof value === 'boolean') return name + 1;
  return name;
}
