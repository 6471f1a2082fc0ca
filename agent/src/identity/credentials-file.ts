import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AgentCredentialsSchema } from '@meridian/contracts/api/enrollment';
import { ensurePrivateDir, replaceFileDurably } from '../state/durable-file.js';

/**
 * What an enrolled agent keeps of its identity, in one JSON file readable by its own user only:
 * the credentials the control plane handed out (node id, organisation, topology prefix, broker
 * user and password, the command-signing public keys, labels), where the control plane is, and
 * when the node was enrolled.
 */
export const StoredCredentialsSchema = AgentCredentialsSchema.extend({
  controlPlaneUrl: z.url({ protocol: /^https?$/ }),
  enrolledAt: z.string(),
});
export type StoredCredentials = z.infer<typeof StoredCredentialsSchema>;

export const CREDENTIALS_FILE_NAME = 'credentials.json';

export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
}

export function defaultCredentialsFile(dataDir: string): string {
  return join(dataDir, CREDENTIALS_FILE_NAME);
}

export function credentialsFileExists(path: string): boolean {
  return existsSync(path);
}

/**
 * The stored credentials, or undefined when there is no file. Throws CredentialsFileError when the
 * file cannot be read, is not what this agent writes, or is readable by other users (as ssh does
 * for private keys: a password others could read is as good as known).
 */
export function readCredentialsFile(path: string): StoredCredentials | undefined {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new CredentialsFileError(
        `credentials file ${path} is accessible by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CredentialsFileError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsFileError(`cannot read credentials file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialsFileError(`credentials file ${path} is not JSON`);
  }
  const parsed = StoredCredentialsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new CredentialsFileError(`credentials file ${path} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Writes the file atomically (a crash leaves the old file or the new one), mode 0600, in a
 * directory created with mode 0700. Validated first: the agent never writes a file it cannot read.
 */
export function writeCredentialsFile(path: string, credentials: StoredCredentials): void {
  const valid = StoredCredentialsSchema.parse(credentials);
  ensurePrivateDir(dirname(path));
  replaceFileDurably(path, `${JSON.stringify(valid, null, 2)}\n`);
}

/**
 * Replaces the signing keys in the file (after a refresh from the control plane), keeping the
 * rest as it is on disk now: a rotation by the CLI meanwhile is not undone.
 */
export function saveSigningKeys(path: string, signingKeys: StoredCredentials['signingKeys']): void {
  const current = readCredentialsFile(path);
  if (!current) throw new CredentialsFileError(`credentials file ${path} is gone`);
  writeCredentialsFile(path, { ...current, signingKeys });
}
