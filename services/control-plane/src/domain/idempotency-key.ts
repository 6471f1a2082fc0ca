/** How long a key is remembered; seeds 000 and 001: "keys retained for 24 hours". */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** Visible ASCII without quotes, backslash or spaces: UUIDs, ULIDs, `req-2025-01-02-uuid`, base64. */
const KEY_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export type IdempotencyKeyResult =
  { ok: true; key: string | undefined } | { ok: false; header: string; message: string };

/**
 * Reads the key of a request from `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header,
 * where it is a quoted string: the quotes are accepted) or its synonym `X-Idempotency-Key` (seed 000).
 * Both may be sent if they agree. No header: no key, the request is not idempotent.
 */
export function parseIdempotencyKey(headers: {
  idempotencyKey?: string | undefined;
  xIdempotencyKey?: string | undefined;
}): IdempotencyKeyResult {
  const given = [
    ['Idempotency-Key', headers.idempotencyKey],
    ['X-Idempotency-Key', headers.xIdempotencyKey],
  ].filter((entry): entry is [string, string] => entry[1] !== undefined);
  const keys: string[] = [];
  for (const [header, raw] of given) {
    const key = unquote(raw.trim());
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      return {
        ok: false,
        header,
        message: `${header} must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`,
      };
    }
    if (!KEY_PATTERN.test(key)) {
      return {
        ok: false,
        header,
        message: `${header} may hold visible ASCII characters only, without spaces, quotes or backslashes`,
      };
    }
    keys.push(key);
  }
  if (keys.length === 2 && keys[0] !== keys[1]) {
    return {
      ok: false,
      header: 'X-Idempotency-Key',
      message: 'Idempotency-Key and X-Idempotency-Key differ; send one of them',
    };
  }
  return { ok: true, key: keys[0] };
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * The JSON text of `value` with object keys sorted at every level: two bodies that differ only in
 * key order or spacing have one canonical form, and so one fingerprint.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
