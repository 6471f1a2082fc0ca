import { z } from 'zod';

/** Browsers cannot set headers on a WebSocket: they offer the token as this subprotocol. */
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

const STREAM_PATH = /^\/api\/v1\/tasks\/executions\/([^/]+)\/logs\/stream\/?$/;
const UuidSchema = z.uuid();
const MAX_SEQ = 2_147_483_647;

/** What an upgrade request asks for, before anything is checked against the caller or the database. */
export type StreamRequest =
  | { kind: 'not-a-stream' }
  | { kind: 'unknown-execution'; executionId: string }
  | { kind: 'bad-after'; executionId: string; detail: string }
  | { kind: 'stream'; executionId: string; after: number };

/**
 * Reads `/api/v1/tasks/executions/{executionId}/logs/stream?after=SEQ` from a request URL.
 * An id that is not a UUID cannot name an execution: it is answered like an unknown one (404).
 */
export function parseStreamRequest(url: string | undefined): StreamRequest {
  const parsed = new URL(url ?? '/', 'http://localhost');
  const match = STREAM_PATH.exec(parsed.pathname);
  if (!match) return { kind: 'not-a-stream' };
  const executionId = safeDecode(match[1] ?? '');
  if (!UuidSchema.safeParse(executionId).success) return { kind: 'unknown-execution', executionId };
  const after = parsed.searchParams.get('after');
  if (after === null || after === '') return { kind: 'stream', executionId, after: 0 };
  if (!/^\d{1,10}$/.test(after) || Number(after) > MAX_SEQ) {
    return { kind: 'bad-after', executionId, detail: 'after must be a whole number ≥ 0 (the last seq seen)' };
  }
  return { kind: 'stream', executionId, after: Number(after) };
}

/** The values of a `Sec-WebSocket-Protocol` header, in the client's order. */
export function parseSubprotocols(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/** The first offered `bearer.<jwt>` subprotocol, which the server must select in its answer. */
export function bearerSubprotocol(protocols: Iterable<string>): string | undefined {
  for (const protocol of protocols) {
    if (protocol.startsWith(BEARER_PROTOCOL_PREFIX) && protocol.length > BEARER_PROTOCOL_PREFIX.length) {
      return protocol;
    }
  }
  return undefined;
}

/**
 * The credential of an upgrade request: the `Authorization` header when present, else the token of
 * a `bearer.<jwt>` subprotocol; undefined when there is neither (the authenticator answers 401).
 */
export function streamCredential(
  authorization: string | undefined,
  protocolHeader: string | string[] | undefined,
): string | undefined {
  if (authorization !== undefined && authorization.trim() !== '') return authorization;
  const protocol = bearerSubprotocol(parseSubprotocols(protocolHeader));
  return protocol?.slice(BEARER_PROTOCOL_PREFIX.length);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
