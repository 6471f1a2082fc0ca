import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AgentCredentialsSchema,
  CreatedEnrollmentSchema,
  type AgentCredentials,
  type CreatedEnrollment,
} from '@meridian/contracts/api/enrollment';
import { inheritedEnvironment } from './inherited-environment.js';
import { startAgentProcess, type ManagedProcess, type OutputListener } from './processes.js';

/**
 * Agents enrolled through the control plane's API, as an operator runs them: an org admin creates
 * an enrollment token, the agent exchanges it for credentials of its own (at first start with
 * ENROLLMENT_TOKEN, or with `npm run agent:enroll`) and from then on runs from its credentials file.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_TIMEOUT_MS = 60_000;

export interface EnrollmentRequest {
  nodeId?: string;
  namePrefix?: string;
  labels?: Record<string, string>;
  expiresInSeconds?: number;
  maxUses?: number;
}

/** `POST /api/v1/nodes/enrollments` with a `node:admin` bearer token; throws unless 201. */
export async function createEnrollment(
  controlPlaneUrl: string,
  bearerToken: string,
  request: EnrollmentRequest,
): Promise<CreatedEnrollment> {
  const response = await fetch(`${controlPlaneUrl}/api/v1/nodes/enrollments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST /api/v1/nodes/enrollments answered ${response.status}: ${text}`);
  }
  return CreatedEnrollmentSchema.parse(JSON.parse(text));
}

/** Where the agent keeps its credentials unless AGENT_CREDENTIALS_FILE says otherwise. */
export function credentialsFile(dataDir: string): string {
  return join(dataDir, 'credentials.json');
}

/** The credentials an enrolled agent saved (the file holds more: its control plane, when it enrolled). */
export function readAgentCredentials(dataDir: string): AgentCredentials {
  return AgentCredentialsSchema.parse(JSON.parse(readFileSync(credentialsFile(dataDir), 'utf8')));
}

/** A folder for an agent's state, readable by this user only (as the agent wants it). */
export function newAgentDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'meridian-enrolled-agent-'));
}

/** `amqp://host:port/vhost` without the login: an enrolled agent takes its login from its credentials. */
export function brokerAddress(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  url.username = '';
  url.password = '';
  return url.toString();
}

export interface EnrolledAgent extends ManagedProcess {
  nodeId: string;
  orgId: string;
  dataDir: string;
  credentials: AgentCredentials;
}

export interface StartEnrolledAgentOptions {
  /** The broker; its login, if any, is left out. */
  amqpUrl: string;
  prefix: string;
  controlPlaneUrl: string;
  /** At first start; without it, `dataDir` must hold credentials already. */
  enrollmentToken?: string;
  dataDir?: string;
  maxConcurrency?: number;
  env?: Record<string, string>;
  onOutput?: OutputListener;
  name?: string;
}

/** Starts an agent that enrolls (or has enrolled) through the API; resolves once it has started. */
export async function startEnrolledAgent(options: StartEnrolledAgentOptions): Promise<EnrolledAgent> {
  const dataDir = options.dataDir ?? newAgentDataDir();
  const child = await startAgentProcess({
    name: options.name ?? `enrolled agent (${dataDir})`,
    env: {
      AMQP_URL: brokerAddress(options.amqpUrl),
      TOPOLOGY_PREFIX: options.prefix,
      CONTROL_PLANE_URL: options.controlPlaneUrl,
      MAX_CONCURRENCY: String(options.maxConcurrency ?? 4),
      AGENT_DATA_DIR: dataDir,
      ...(options.enrollmentToken === undefined ? {} : { ENROLLMENT_TOKEN: options.enrollmentToken }),
      ...options.env,
    },
    onOutput: options.onOutput,
  });
  const credentials = readAgentCredentials(dataDir);
  return Object.assign(child, {
    nodeId: credentials.nodeId,
    orgId: credentials.orgId,
    dataDir,
    credentials,
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run agent:enroll -- --token T --url U --data-dir D`, to its end. */
export function enrollWithCli(options: {
  token: string;
  controlPlaneUrl: string;
  dataDir: string;
}): Promise<CliResult> {
  return runAgentCli('agent:enroll', [
    ...['--token', options.token, '--url', options.controlPlaneUrl],
    ...['--data-dir', options.dataDir],
  ]);
}

/** `npm run agent:rotate-credentials -- --data-dir D`, to its end: a new broker password. */
export function rotateWithCli(options: { dataDir: string }): Promise<CliResult> {
  return runAgentCli('agent:rotate-credentials', ['--data-dir', options.dataDir]);
}

async function runAgentCli(script: string, args: string[]): Promise<CliResult> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['run', '--silent', script, '--', ...args], {
    cwd: ROOT,
    env: inheritedEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
