import type { Logger } from 'pino';
import type { AgentSettings } from '../config.js';
import { ControlPlaneError } from './control-plane-client.js';
import { readCredentialsFile, type StoredCredentials } from './credentials-file.js';
import { enrollAndSave } from './enrollment.js';

export interface CredentialsAtStartOptions {
  logger: Logger;
  agentVersion: string;
  hostname: string;
  /** Attempts while the control plane is unreachable or answers 5xx (default 24, 5 s apart). */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * The credentials the agent starts with: the stored ones; else, with ENROLLMENT_TOKEN, new ones
 * from the control plane (stored before the agent goes on); else none (development mode).
 * Enrollment is retried while the control plane is not there yet (it may start alongside the agent),
 * never after a 4xx: a refused token stays refused.
 */
export async function credentialsAtStart(
  settings: AgentSettings,
  options: CredentialsAtStartOptions,
): Promise<StoredCredentials | undefined> {
  const { logger } = options;
  const stored = readCredentialsFile(settings.credentialsFile);
  if (stored) {
    if (settings.enrollment) logger.info('already enrolled: ENROLLMENT_TOKEN is not used again');
    return stored;
  }
  if (!settings.enrollment) return undefined;

  const { token, controlPlaneUrl } = settings.enrollment;
  const attempts = options.attempts ?? 24;
  for (let attempt = 1; ; attempt++) {
    try {
      const credentials = await enrollAndSave({
        controlPlaneUrl,
        token,
        credentialsFile: settings.credentialsFile,
        agentVersion: options.agentVersion,
        hostname: options.hostname,
      });
      logger.info(
        { nodeId: credentials.nodeId, orgId: credentials.orgId, credentialsFile: settings.credentialsFile },
        'enrolled with the control plane; credentials stored',
      );
      return credentials;
    } catch (error) {
      const retryable =
        error instanceof ControlPlaneError && (error.status === undefined || error.status >= 500);
      if (!retryable || attempt >= attempts) throw error;
      logger.warn({ err: error, attempt }, 'enrollment failed; trying again');
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 5_000));
    }
  }
}
