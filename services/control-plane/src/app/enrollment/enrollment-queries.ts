import type { Enrollment, EnrollmentList, ListEnrollmentsQuery } from '@meridian/contracts/api/enrollment';
import { NotFoundError } from '../../domain/errors.js';
import { decodePageCursor, encodePageCursor } from '../../domain/page-cursor.js';
import { findEnrollment, listEnrollments, revokeEnrollment } from '../../persistence/node-enrollments.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { toEnrollmentDto } from './enrollment-dto.js';

/** The caller's organisation's enrollments, newest first, a page at a time. */
export async function listNodeEnrollments(
  deps: AppDeps,
  actor: Actor,
  query: ListEnrollmentsQuery,
): Promise<EnrollmentList> {
  const after = query.cursor === undefined ? null : decodePageCursor(query.cursor);
  // One more than asked: whether there is a next page.
  const rows = await listEnrollments(deps.dataSource, actor.orgId, query.limit + 1, after);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const now = deps.clock.now();
  return {
    items: page.map((row) => toEnrollmentDto(row, now)),
    nextCursor: rows.length > query.limit && last ? encodePageCursor(last) : null,
  };
}

export async function getNodeEnrollment(deps: AppDeps, actor: Actor, id: string): Promise<Enrollment> {
  const row = await findEnrollment(deps.dataSource, actor.orgId, id);
  if (!row) throw new NotFoundError('enrollment', id);
  return toEnrollmentDto(row, deps.clock.now());
}

/** Revokes the token: it enrolls nothing more. Nodes it enrolled keep their credentials. Idempotent. */
export async function revokeNodeEnrollment(deps: AppDeps, actor: Actor, id: string): Promise<Enrollment> {
  const now = deps.clock.now();
  const row = await revokeEnrollment(deps.dataSource, actor.orgId, id, now, actor.userId);
  if (!row) throw new NotFoundError('enrollment', id);
  deps.logger.info({ enrollmentId: id, orgId: actor.orgId, by: actor.userId }, 'enrollment token revoked');
  return toEnrollmentDto(row, now);
}
