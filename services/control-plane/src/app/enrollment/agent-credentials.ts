import { randomBytes } from 'node:crypto';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { hashRabbitPassword, RABBIT_SALT_BYTES } from '../../domain/rabbit-password-hash.js';
import type { AppDeps } from '../app-deps.js';

const PASSWORD_BYTES = 32;

/** A new broker password and the hash that is stored instead of it. */
export function newBrokerPassword(): { password: string; passwordHash: string } {
  const password = randomBytes(PASSWORD_BYTES).toString('base64url');
  return { password, passwordHash: hashRabbitPassword(password, randomBytes(RABBIT_SALT_BYTES)) };
}

/** What the agent stores: who it is (decided here), how to log in, whose commands to trust. */
export function agentCredentialsOf(
  deps: AppDeps,
  node: { nodeId: string; orgId: string; brokerUsername: string; labels: Record<string, string> },
  password: string,
  now: Date,
): AgentCredentials {
  return {
    nodeId: node.nodeId,
    orgId: node.orgId,
    topologyPrefix: deps.topology.prefix,
    broker: { username: node.brokerUsername, password },
    signingKeys: [...deps.keyring.publicKeys],
    labels: node.labels,
    issuedAt: now.toISOString(),
  };
}
