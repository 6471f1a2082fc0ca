import type { EntityManager } from 'typeorm';

/** A response kept under an idempotency key, replayed to every later request with the key. */
export interface StoredResponse {
  requestHash: string;
  status: number;
  /** The response's JSON text, as first sent. */
  body: string;
  headers: Record<string, string>;
}

export interface IdempotencyKeyRow extends StoredResponse {
  orgId: string;
  scope: string;
  key: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
}

interface StoredRow {
  request_hash: string;
  response_status: number;
  response_body: string;
  response_headers: Record<string, string>;
}

/**
 * Inserts the key with the response of the work being done in the same transaction. Returns null
 * when it was inserted (this request does the work), else the response stored under the key.
 *
 * A concurrent request with the same key waits on the primary key until the first one's
 * transaction ends (PostgreSQL's unique check), then finds its row: no request sees work in
 * progress. A row past its expiry that the retention sweep has not deleted yet is taken over.
 */
export async function claimIdempotencyKey(
  manager: EntityManager,
  row: IdempotencyKeyRow,
): Promise<StoredResponse | null> {
  const inserted: unknown[] = await manager.query(
    `INSERT INTO idempotency_keys
       (org_id, scope, key, request_hash, response_status, response_body, response_headers,
        created_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
     ON CONFLICT (org_id, scope, key) DO UPDATE SET
       request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
       response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers,
       created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
     RETURNING 1`,
    [
      row.orgId,
      row.scope,
      row.key,
      row.requestHash,
      row.status,
      row.body,
      JSON.stringify(row.headers),
      row.createdBy,
      row.createdAt,
      row.expiresAt,
    ],
  );
  if (inserted.length > 0) return null;
  const [stored] = await manager.query<StoredRow[]>(
    `SELECT request_hash, response_status, response_body, response_headers
       FROM idempotency_keys WHERE org_id = $1 AND scope = $2 AND key = $3`,
    [row.orgId, row.scope, row.key],
  );
  if (!stored) throw new Error('idempotency key row vanished between its insert and its read');
  return toStoredResponse(stored);
}

/**
 * The response kept under a key that has not expired at `now`, or null. Read under a lock that
 * serialises the requests the key may answer (the task's row, for a trigger), so that a request
 * finds the work of the one before it, committed.
 */
export async function findStoredResponse(
  manager: EntityManager,
  where: { orgId: string; scope: string; key: string },
  now: Date,
): Promise<StoredResponse | null> {
  const [stored] = await manager.query<StoredRow[]>(
    `SELECT request_hash, response_status, response_body, response_headers
       FROM idempotency_keys WHERE org_id = $1 AND scope = $2 AND key = $3 AND expires_at > $4`,
    [where.orgId, where.scope, where.key, now],
  );
  return stored ? toStoredResponse(stored) : null;
}

function toStoredResponse(row: StoredRow): StoredResponse {
  return {
    requestHash: row.request_hash,
    status: row.response_status,
    body: row.response_body,
    headers: row.response_headers,
  };
}
