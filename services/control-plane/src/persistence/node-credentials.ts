import type { EntityManager } from 'typeorm';

/** A `node_credentials` row: an enrolled node's broker user, as the database wants the broker to hold it. */
export interface CredentialRow {
  nodeId: string;
  orgId: string;
  brokerUsername: string;
  passwordHash: string;
  enrollmentId: string | null;
  version: number;
  syncedVersion: number;
  syncAttempts: number;
  nextSyncAt: Date;
  lastSyncError: string | null;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

// An UPDATE … RETURNING is run inside `WITH … SELECT`: TypeORM answers a bare UPDATE with
// [rows, count] rather than the rows.

const COLUMNS = `node_id, org_id, broker_username, password_hash, enrollment_id, version, synced_version,
  sync_attempts, next_sync_at, last_sync_error, created_at, rotated_at, revoked_at`;

function toRow(row: Record<string, unknown>): CredentialRow {
  return {
    nodeId: row['node_id'] as string,
    orgId: row['org_id'] as string,
    brokerUsername: row['broker_username'] as string,
    passwordHash: row['password_hash'] as string,
    enrollmentId: row['enrollment_id'] as string | null,
    version: row['version'] as number,
    syncedVersion: row['synced_version'] as number,
    syncAttempts: row['sync_attempts'] as number,
    nextSyncAt: row['next_sync_at'] as Date,
    lastSyncError: row['last_sync_error'] as string | null,
    createdAt: row['created_at'] as Date,
    rotatedAt: row['rotated_at'] as Date | null,
    revokedAt: row['revoked_at'] as Date | null,
  };
}

async function one(db: Queryable, sql: string, params: unknown[]): Promise<CredentialRow | null> {
  const [row] = (await db.query(sql, params)) as Record<string, unknown>[];
  return row ? toRow(row) : null;
}

/**
 * A node's credentials after an enrollment: new, or replaced (new password, next version, not
 * revoked) when the node was enrolled before in the same organisation. Null when the node id
 * belongs to another organisation. Either way the row is due for a sync at once.
 */
export async function saveEnrolledCredential(
  manager: EntityManager,
  credential: {
    nodeId: string;
    orgId: string;
    brokerUsername: string;
    passwordHash: string;
    enrollmentId: string;
    now: Date;
  },
): Promise<CredentialRow | null> {
  return one(
    manager,
    `INSERT INTO node_credentials AS c (node_id, org_id, broker_username, password_hash, enrollment_id, next_sync_at,
                                        created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (node_id) DO UPDATE SET
       broker_username = EXCLUDED.broker_username, password_hash = EXCLUDED.password_hash,
       enrollment_id = EXCLUDED.enrollment_id, version = c.version + 1, sync_attempts = 0,
       next_sync_at = EXCLUDED.next_sync_at, last_sync_error = NULL, rotated_at = EXCLUDED.created_at,
       revoked_at = NULL
     WHERE c.org_id = EXCLUDED.org_id
     RETURNING ${COLUMNS}`,
    [
      credential.nodeId,
      credential.orgId,
      credential.brokerUsername,
      credential.passwordHash,
      credential.enrollmentId,
      credential.now,
    ],
  );
}

export async function lockCredentialByUsername(
  manager: EntityManager,
  brokerUsername: string,
): Promise<CredentialRow | null> {
  return one(manager, `SELECT ${COLUMNS} FROM node_credentials WHERE broker_username = $1 FOR UPDATE`, [
    brokerUsername,
  ]);
}

export async function findCredential(db: Queryable, nodeId: string): Promise<CredentialRow | null> {
  return one(db, `SELECT ${COLUMNS} FROM node_credentials WHERE node_id = $1`, [nodeId]);
}

/** A new password for a node (locked by the caller): the next version, due for a sync at once. */
export async function rotateCredentialPassword(
  manager: EntityManager,
  nodeId: string,
  passwordHash: string,
  now: Date,
): Promise<CredentialRow> {
  const row = await one(
    manager,
    `WITH rotated AS (
       UPDATE node_credentials SET password_hash = $2, version = version + 1, rotated_at = $3, next_sync_at = $3,
              sync_attempts = 0, last_sync_error = NULL
        WHERE node_id = $1 RETURNING ${COLUMNS}
     )
     SELECT * FROM rotated`,
    [nodeId, passwordHash, now],
  );
  return row!;
}

/** Revokes a node's credentials (next version, due at once); null when it has none or they are revoked. */
export async function revokeCredential(
  manager: EntityManager,
  nodeId: string,
  orgId: string,
  now: Date,
): Promise<CredentialRow | null> {
  return one(
    manager,
    `WITH revoked AS (
       UPDATE node_credentials SET revoked_at = $3, version = version + 1, next_sync_at = $3, sync_attempts = 0,
              last_sync_error = NULL
        WHERE node_id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}
     )
     SELECT * FROM revoked`,
    [nodeId, orgId, now],
  );
}

/** One row the broker is behind on and whose retry time has come, claimed for this transaction. */
export async function claimDueCredential(manager: EntityManager, now: Date): Promise<CredentialRow | null> {
  return one(
    manager,
    `SELECT ${COLUMNS} FROM node_credentials WHERE synced_version < version AND next_sync_at <= $1
      ORDER BY next_sync_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now],
  );
}

/** A node's row, waiting for a sync that holds it to finish. */
export async function lockCredential(manager: EntityManager, nodeId: string): Promise<CredentialRow | null> {
  return one(manager, `SELECT ${COLUMNS} FROM node_credentials WHERE node_id = $1 FOR UPDATE`, [nodeId]);
}

export async function recordSyncSuccess(
  manager: EntityManager,
  nodeId: string,
  version: number,
): Promise<void> {
  await manager.query(
    `UPDATE node_credentials SET synced_version = $2, sync_attempts = 0, last_sync_error = NULL WHERE node_id = $1`,
    [nodeId, version],
  );
}

export async function recordSyncFailure(
  manager: EntityManager,
  nodeId: string,
  failure: { attempts: number; nextSyncAt: Date; error: string },
): Promise<void> {
  await manager.query(
    `UPDATE node_credentials SET sync_attempts = $2, next_sync_at = $3, last_sync_error = $4 WHERE node_id = $1`,
    [nodeId, failure.attempts, failure.nextSyncAt, failure.error],
  );
}

/** The organisations that own a node id (its node row, its credentials): at most one in practice. */
export async function ownersOfNodeId(db: Queryable, nodeId: string): Promise<string[]> {
  const rows = (await db.query(
    `SELECT org_id FROM nodes WHERE id = $1 UNION SELECT org_id FROM node_credentials WHERE node_id = $1`,
    [nodeId],
  )) as { org_id: string }[];
  return rows.map((row) => row.org_id);
}
