import { createHash } from 'node:crypto';

/** Which listing a cursor pages through: one task's events, or the whole organisation's feed. */
export type EventScope = { kind: 'task'; orgId: string; taskId: string } | { kind: 'org'; orgId: string };

/**
 * Where a page ended. A task's events are in `id` order; the organisation's feed is in
 * (`txId`, `id`) order, `txId` being the writing transaction's id (`xid8`, in decimal).
 */
export interface EventPosition {
  id: string;
  txId: string | null;
}

const VERSION = '1';
const DECIMAL = /^(0|[1-9]\d{0,19})$/;
const BIGINT_MAX = 2n ** 63n - 1n;
const XID8_MAX = 2n ** 64n - 1n;
const isDecimalUpTo = (value: string, max: bigint) => DECIMAL.test(value) && BigInt(value) <= max;
/** 128 bits of SHA-256 in base64url. */
const CHECK_LENGTH = 22;

function check(scope: EventScope, filterKey: string, position: EventPosition): string {
  const scopeKey = scope.kind === 'task' ? `task\n${scope.orgId}\n${scope.taskId}` : `org\n${scope.orgId}`;
  return createHash('sha256')
    .update([VERSION, scopeKey, filterKey, position.txId ?? '', position.id].join('\n'))
    .digest('base64url')
    .slice(0, CHECK_LENGTH);
}

/**
 * An opaque cursor: base64url of `1.<txId>.<id>.<check>`, where the check is a hash over the
 * version, the route's scope (organisation, task), the filter and the position. A cursor is only
 * good for the query it came from (`limit` aside): any other route, task, organisation or filter
 * fails the check, and so does any change to it. The check is not a secret: a cursor grants
 * nothing, since every query is scoped to the caller's organisation anyway.
 */
export function encodeEventCursor(scope: EventScope, filterKey: string, position: EventPosition): string {
  const text = [VERSION, position.txId ?? '', position.id, check(scope, filterKey, position)].join('.');
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The position a cursor names, or null when it was not made by `encodeEventCursor` for this query. */
export function decodeEventCursor(
  cursor: string,
  scope: EventScope,
  filterKey: string,
): EventPosition | null {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (parts.length !== 4) return null;
  const [version, txId, id, given] = parts as [string, string, string, string];
  if (version !== VERSION || !isDecimalUpTo(id, BIGINT_MAX)) return null;
  if (scope.kind === 'org' ? !isDecimalUpTo(txId, XID8_MAX) : txId !== '') return null;
  const position = { id, txId: txId === '' ? null : txId };
  if (given !== check(scope, filterKey, position)) return null;
  // base64url decoding forgives stray bits in the last character: only the exact text is ours.
  return encodeEventCursor(scope, filterKey, position) === cursor ? position : null;
}
