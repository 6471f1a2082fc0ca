import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { isPasswordOfRabbitHash } from '../../domain/rabbit-password-hash.js';
import { nodeLabels } from '../../persistence/enrolled-nodes.js';
import { lockCredentialByUsername, rotateCredentialPassword } from '../../persistence/node-credentials.js';
import { nodeEventsPart } from '../../persistence/node-event.writes.js';
import { WriteBatch } from '../../persistence/write-batch.js';
import type { AppDeps } from '../app-deps.js';
import { syncNodeCredentialsNow } from '../sync-node-credentials.js';
import { agentCredentialsOf, newBrokerPassword } from './agent-credentials.js';
import { InvalidAgentCredentialsError } from './enrollment-errors.js';

/** A hash no password matches: checked against when the username is unknown, to take the same time. */
const NO_PASSWORD_HASH = Buffer.alloc(36).toString('base64');

/**
 * Gives an enrolled node a new broker password, proven by its current one. The broker accepts the
 * new one once synced; connections open with the old one stay open (the agent moves over at its
 * next reconnect), so no work is lost.
 */
export async function rotateNodeCredentials(
  deps: AppDeps,
  login: { username: string; password: string } | null,
): Promise<AgentCredentials> {
  if (!login) throw new InvalidAgentCredentialsError();
  const now = deps.clock.now();
  const { password, passwordHash } = newBrokerPassword();
  const rotated = await deps.dataSource.transaction(async (manager) => {
    const current = await lockCredentialByUsername(manager, login.username);
    const matches = isPasswordOfRabbitHash(login.password, current?.passwordHash ?? NO_PASSWORD_HASH);
    if (!current || current.revokedAt !== null || !matches) throw new InvalidAgentCredentialsError();
    const row = await rotateCredentialPassword(manager, current.nodeId, passwordHash, now);
    await new WriteBatch()
      .add(
        nodeEventsPart([
          {
            orgId: row.orgId,
            nodeId: row.nodeId,
            type: 'CredentialsRotated',
            actor: `node:${row.nodeId}`,
            data: { brokerUsername: row.brokerUsername, credentialsVersion: row.version },
            occurredAt: now,
          },
        ]),
      )
      .run(manager);
    return { ...row, labels: await nodeLabels(manager, row.nodeId) };
  });
  const synced = await syncNodeCredentialsNow(deps, rotated.nodeId);
  deps.logger.info({ nodeId: rotated.nodeId, version: rotated.version, synced }, 'node credentials rotated');
  return agentCredentialsOf(deps, rotated, password, now);
}
