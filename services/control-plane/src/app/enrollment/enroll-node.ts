import { randomBytes } from 'node:crypto';
import type { AgentCredentials, EnrollRequest } from '@meridian/contracts/api/enrollment';
import { PROTOCOL_VERSION } from '@meridian/contracts/messages/envelope';
import { brokerUsername } from '@meridian/contracts/security/node-identity';
import {
  decideEnrollmentUse,
  enrollmentTokenHash,
  isWellFormedEnrollmentToken,
  NODE_SUFFIX_LENGTH,
} from '../../domain/node-enrollment.js';
import { saveEnrolledNode } from '../../persistence/enrolled-nodes.js';
import { saveEnrolledCredential } from '../../persistence/node-credentials.js';
import { countEnrollmentUse, lockEnrollmentByTokenHash } from '../../persistence/node-enrollments.js';
import { nodeEventsPart } from '../../persistence/node-event.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import type { AppDeps } from '../app-deps.js';
import { syncNodeCredentialsNow } from '../sync-node-credentials.js';
import { agentCredentialsOf, newBrokerPassword } from './agent-credentials.js';
import { InvalidEnrollmentTokenError, NodeIdUnavailableError } from './enrollment-errors.js';

/**
 * Exchanges an enrollment token for a node's own credentials. The node id and organisation come
 * from the enrollment, never from the agent. In one transaction: the token row is locked and
 * used once more, the node's credentials are created or replaced (a new password, the next
 * version), its node row created or un-revoked, and `NodeEnrolled` recorded. Then the broker
 * user is provisioned at once (waiting a bounded time; the sync loop retries a failure).
 */
export async function enrollNode(deps: AppDeps, request: EnrollRequest): Promise<AgentCredentials> {
  // Not a token we could have issued: refused without touching the database.
  if (!isWellFormedEnrollmentToken(request.token)) throw new InvalidEnrollmentTokenError();
  const now = deps.clock.now();
  const { password, passwordHash } = newBrokerPassword();
  const enrolled = await deps.dataSource.transaction(async (manager) => {
    const enrollment = await lockEnrollmentByTokenHash(manager, enrollmentTokenHash(request.token));
    if (!enrollment) throw new InvalidEnrollmentTokenError();
    const use = decideEnrollmentUse(enrollment, now, randomBytes(NODE_SUFFIX_LENGTH));
    if (!use.ok) throw new InvalidEnrollmentTokenError();
    const { nodeId } = use;
    const { orgId } = enrollment;
    const username = brokerUsername(deps.topology.prefix, nodeId);
    const credential = await saveEnrolledCredential(manager, {
      nodeId,
      orgId,
      brokerUsername: username,
      passwordHash,
      enrollmentId: enrollment.id,
      now,
    });
    const nodeSaved =
      credential !== null &&
      (await saveEnrolledNode(manager, {
        nodeId,
        orgId,
        agentVersion: request.agentVersion ?? '',
        protocolVersion: request.protocolVersion ?? PROTOCOL_VERSION,
        labels: enrollment.labels,
        now,
      }));
    if (!credential || !nodeSaved) throw new NodeIdUnavailableError(nodeId);
    await countEnrollmentUse(manager, enrollment.id);
    await new WriteBatch()
      .add(
        nodeEventsPart([
          {
            orgId,
            nodeId,
            type: 'NodeEnrolled',
            actor: `enrollment:${enrollment.id}`,
            data: {
              enrollmentId: enrollment.id,
              brokerUsername: username,
              credentialsVersion: credential.version,
              reenrolled: credential.version > 1,
              ...(request.hostname === undefined ? {} : { hostname: request.hostname }),
              ...(request.agentVersion === undefined ? {} : { agentVersion: request.agentVersion }),
              ...(request.protocolVersion === undefined ? {} : { protocolVersion: request.protocolVersion }),
            },
            occurredAt: now,
          },
        ]),
      )
      .run(manager);
    return {
      nodeId,
      orgId,
      brokerUsername: username,
      labels: enrollment.labels,
      enrollmentId: enrollment.id,
    };
  });
  const synced = await syncNodeCredentialsNow(deps, enrolled.nodeId);
  deps.logger.info(
    { nodeId: enrolled.nodeId, orgId: enrolled.orgId, enrollmentId: enrolled.enrollmentId, synced },
    'node enrolled',
  );
  return agentCredentialsOf(deps, enrolled, password, now);
}
