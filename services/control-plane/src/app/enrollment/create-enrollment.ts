import { randomBytes, randomUUID } from 'node:crypto';
import type { CreateEnrollment, CreatedEnrollment } from '@meridian/contracts/api/enrollment';
import {
  ENROLLMENT_TOKEN_BYTES,
  enrollmentTokenHash,
  enrollmentTokenOf,
} from '../../domain/node-enrollment.js';
import { ownersOfNodeId } from '../../persistence/node-credentials.js';
import { insertEnrollment } from '../../persistence/node-enrollments.js';
import type { Actor } from '../actor.js';
import type { AppDeps } from '../app-deps.js';
import { toEnrollmentDto } from './enrollment-dto.js';
import { NodeIdUnavailableError } from './enrollment-errors.js';

/**
 * Creates an enrollment token for the caller's organisation. The token is in the answer and
 * nowhere else: only its SHA-256 is stored. A node id another organisation has is refused
 * (checked again when the token is used, since it may be taken meanwhile).
 */
export async function createEnrollment(
  deps: AppDeps,
  actor: Actor,
  body: CreateEnrollment,
): Promise<CreatedEnrollment> {
  const now = deps.clock.now();
  const token = enrollmentTokenOf(randomBytes(ENROLLMENT_TOKEN_BYTES));
  const row = await deps.dataSource.transaction(async (manager) => {
    if (body.nodeId !== undefined) {
      const owners = await ownersOfNodeId(manager, body.nodeId);
      if (owners.some((orgId) => orgId !== actor.orgId)) throw new NodeIdUnavailableError(body.nodeId);
    }
    return insertEnrollment(manager, {
      id: randomUUID(),
      orgId: actor.orgId,
      tokenHash: enrollmentTokenHash(token),
      nodeId: body.nodeId ?? null,
      namePrefix: body.namePrefix ?? null,
      labels: body.labels,
      maxUses: body.maxUses,
      expiresAt: new Date(now.getTime() + body.expiresInSeconds * 1000),
      createdBy: actor.userId,
      createdAt: now,
    });
  });
  deps.logger.info(
    {
      enrollmentId: row.id,
      orgId: row.orgId,
      nodeId: row.nodeId,
      namePrefix: row.namePrefix,
      by: actor.userId,
    },
    'enrollment token created',
  );
  return { ...toEnrollmentDto(row, now), token };
}
