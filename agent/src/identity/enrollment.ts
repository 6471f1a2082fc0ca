import { PROTOCOL_VERSION } from '@meridian/contracts/messages/envelope';
import { isValidNodeId } from '@meridian/contracts/topology';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { enroll, rotateCredentials } from './control-plane-client.js';
import {
  CredentialsFileError,
  readCredentialsFile,
  writeCredentialsFile,
  type StoredCredentials,
} from './credentials-file.js';

export interface EnrollOptions {
  controlPlaneUrl: string;
  token: string;
  credentialsFile: string;
  agentVersion: string;
  hostname: string;
  now?: () => Date;
}

/**
 * Exchanges a one-time enrollment token for the node's own credentials and stores them. The node id
 * and the organisation are the control plane's answer, never this agent's claim.
 */
export async function enrollAndSave(options: EnrollOptions): Promise<StoredCredentials> {
  const credentials = await enroll(options.controlPlaneUrl, {
    token: options.token,
    agentVersion: options.agentVersion.slice(0, 50),
    protocolVersion: PROTOCOL_VERSION,
    hostname: options.hostname.slice(0, 200),
  });
  if (!isValidNodeId(credentials.nodeId)) {
    throw new CredentialsFileError(
      `the control plane answered an unusable node id "${credentials.nodeId.slice(0, 100)}"`,
    );
  }
  const stored: StoredCredentials = {
    ...credentials,
    controlPlaneUrl: options.controlPlaneUrl,
    enrolledAt: (options.now?.() ?? new Date()).toISOString(),
  };
  writeCredentialsFile(options.credentialsFile, stored);
  return stored;
}

export interface RotateOptions {
  credentialsFile: string;
  /** Overrides the control plane URL kept in the file. */
  controlPlaneUrl?: string;
}

/**
 * Asks the control plane for a new broker password (authenticated with the current one) and stores
 * it. The running agent keeps its connection, which the broker does not close on a password change,
 * and logs in with the new password at its next reconnect: no work is dropped.
 */
export async function rotateAndSave(options: RotateOptions): Promise<StoredCredentials> {
  const current = readCredentialsFile(options.credentialsFile);
  if (!current) {
    throw new CredentialsFileError(
      `no credentials file at ${options.credentialsFile}: enroll the agent first`,
    );
  }
  const controlPlaneUrl = options.controlPlaneUrl ?? current.controlPlaneUrl;
  const rotated = await rotateCredentials(controlPlaneUrl, current.broker);
  assertSameIdentity(current, rotated);
  const stored: StoredCredentials = { ...rotated, controlPlaneUrl, enrolledAt: current.enrolledAt };
  writeCredentialsFile(options.credentialsFile, stored);
  return stored;
}

/** A rotation changes the password (and maybe the keys), never who the node is. */
function assertSameIdentity(current: AgentCredentials, rotated: AgentCredentials): void {
  const fields = [
    ['nodeId', current.nodeId, rotated.nodeId],
    ['orgId', current.orgId, rotated.orgId],
    ['topologyPrefix', current.topologyPrefix, rotated.topologyPrefix],
    ['broker.username', current.broker.username, rotated.broker.username],
  ] as const;
  for (const [name, before, after] of fields) {
    if (before !== after) {
      throw new CredentialsFileError(
        `the control plane answered another ${name} ("${after.slice(0, 100)}" instead of "${before.slice(0, 100)}"); the file is left as it was`,
      );
    }
  }
}
