import type { Enrollment } from '@meridian/contracts/api/enrollment';
import { enrollmentStatus } from '../../domain/node-enrollment.js';
import type { EnrollmentRow } from '../../persistence/node-enrollments.js';

export function toEnrollmentDto(row: EnrollmentRow, now: Date): Enrollment {
  return {
    id: row.id,
    orgId: row.orgId,
    nodeId: row.nodeId,
    namePrefix: row.namePrefix,
    labels: row.labels,
    maxUses: row.maxUses,
    uses: row.uses,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy,
    status: enrollmentStatus(row, now),
  };
}
