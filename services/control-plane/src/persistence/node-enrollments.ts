import type { EntityManager } from 'typeorm';

/** A `node_enrollments` row (the token itself is never stored, only its SHA-256). */
export interface EnrollmentRow {
  id: string;
  orgId: string;
  nodeId: string | null;
  namePrefix: string | null;
  labels: Record<string, string>;
  maxUses: number;
  uses: number;
  expiresAt: Date;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export interface NewEnrollment extends Omit<EnrollmentRow, 'uses' | 'revokedAt' | 'revokedBy'> {
  tokenHash: string;
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

const COLUMNS = `id, org_id, node_id, name_prefix, labels, max_uses, uses, expires_at, created_by, created_at, revoked_at,
  revoked_by`;

function toRow(row: Record<string, unknown>): EnrollmentRow {
  return {
    id: row['id'] as string,
    orgId: row['org_id'] as string,
    nodeId: row['node_id'] as string | null,
    namePrefix: row['name_prefix'] as string | null,
    labels: row['labels'] as Record<string, string>,
    maxUses: row['max_uses'] as number,
    uses: row['uses'] as number,
    expiresAt: row['expires_at'] as Date,
    createdBy: row['created_by'] as string,
    createdAt: row['created_at'] as Date,
    revokedAt: row['revoked_at'] as Date | null,
    revokedBy: row['revoked_by'] as string | null,
  };
}

async function rows(db: Queryable, sql: string, params: unknown[]): Promise<EnrollmentRow[]> {
  return ((await db.query(sql, params)) as Record<string, unknown>[]).map(toRow);
}

export async function insertEnrollment(db: Queryable, enrollment: NewEnrollment): Promise<EnrollmentRow> {
  const [row] = await rows(
    db,
    `INSERT INTO node_enrollments (id, org_id, token_hash, node_id, name_prefix, labels, max_uses, expires_at,
                                   created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [
      enrollment.id,
      enrollment.orgId,
      enrollment.tokenHash,
      enrollment.nodeId,
      enrollment.namePrefix,
      JSON.stringify(enrollment.labels),
      enrollment.maxUses,
      enrollment.expiresAt,
      enrollment.createdBy,
      enrollment.createdAt,
    ],
  );
  return row!;
}

export async function findEnrollment(
  db: Queryable,
  orgId: string,
  id: string,
): Promise<EnrollmentRow | null> {
  const [row] = await rows(db, `SELECT ${COLUMNS} FROM node_enrollments WHERE id = $1 AND org_id = $2`, [
    id,
    orgId,
  ]);
  return row ?? null;
}

/** Newest first, keyset-paginated after (`createdAt`, `id`). */
export async function listEnrollments(
  db: Queryable,
  orgId: string,
  limit: number,
  after: { createdAt: Date; id: string } | null,
): Promise<EnrollmentRow[]> {
  return after === null
    ? rows(
        db,
        `SELECT ${COLUMNS} FROM node_enrollments WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
        [orgId, limit],
      )
    : rows(
        db,
        `SELECT ${COLUMNS} FROM node_enrollments WHERE org_id = $1 AND (created_at, id) < ($3, $4)
          ORDER BY created_at DESC, id DESC LIMIT $2`,
        [orgId, limit, after.createdAt, after.id],
      );
}

/** Revokes the token (idempotent: an earlier revocation's time is kept). */
export async function revokeEnrollment(
  db: Queryable,
  orgId: string,
  id: string,
  now: Date,
  revokedBy: string,
): Promise<EnrollmentRow | null> {
  const [row] = await rows(
    db,
    `WITH revoked AS (
       UPDATE node_enrollments SET revoked_at = coalesce(revoked_at, $3), revoked_by = coalesce(revoked_by, $4)
        WHERE id = $1 AND org_id = $2
       RETURNING ${COLUMNS}
     )
     SELECT * FROM revoked`,
    [id, orgId, now, revokedBy],
  );
  return row ?? null;
}

/** The enrollment a presented token names, locked until the enrollment's transaction ends. */
export async function lockEnrollmentByTokenHash(
  manager: EntityManager,
  tokenHash: string,
): Promise<EnrollmentRow | null> {
  const [row] = await rows(
    manager,
    `SELECT ${COLUMNS} FROM node_enrollments WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return row ?? null;
}

export async function countEnrollmentUse(manager: EntityManager, id: string): Promise<void> {
  await manager.query(`UPDATE node_enrollments SET uses = uses + 1 WHERE id = $1`, [id]);
}
