import type { z } from 'zod';
import {
  AgentCredentialsSchema,
  SigningKeyListSchema,
  type AgentCredentials,
  type EnrollRequest,
} from '@meridian/contracts/api/enrollment';
import { ProblemSchema } from '@meridian/contracts/api/problem';

/** The control plane's answer was an error, or not what the contracts say. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
  constructor(
    message: string,
    /** HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 15_000;
/** Answers are small; a larger one is not the control plane's. */
const RESPONSE_MAX_BYTES = 256 * 1024;

/**
 * The agent's side of the control plane's agent API (contracts/src/api/enrollment.ts): enrollment,
 * credential rotation and the command-signing keys. Plain fetch; no retries here (the callers
 * decide: a CLI reports and exits, the running agent tries again later).
 */
export async function enroll(controlPlaneUrl: string, request: EnrollRequest): Promise<AgentCredentials> {
  return call(controlPlaneUrl, '/api/v1/agent/enroll', AgentCredentialsSchema, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
}

/** Authenticated with the broker username and password (HTTP Basic): the node proves it is itself. */
export async function rotateCredentials(
  controlPlaneUrl: string,
  broker: { username: string; password: string },
): Promise<AgentCredentials> {
  const basic = Buffer.from(`${broker.username}:${broker.password}`, 'utf8').toString('base64');
  return call(controlPlaneUrl, '/api/v1/agent/credentials/rotate', AgentCredentialsSchema, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
  });
}

export async function fetchSigningKeys(
  controlPlaneUrl: string,
): Promise<z.infer<typeof SigningKeyListSchema>> {
  return call(controlPlaneUrl, '/api/v1/agent/signing-keys', SigningKeyListSchema, { method: 'GET' });
}

async function call<T>(baseUrl: string, path: string, schema: z.ZodType<T>, init: RequestInit): Promise<T> {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { accept: 'application/json', ...init.headers },
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
    throw new ControlPlaneError(
      `cannot reach the control plane at ${url.origin}: ${cause?.message ?? String(error)}`,
    );
  }
  const text = await readBounded(response);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const problem = ProblemSchema.safeParse(body);
    const explanation = problem.success
      ? [problem.data.title, problem.data.detail].filter(Boolean).join(': ')
      : response.statusText;
    throw new ControlPlaneError(
      `${init.method ?? 'GET'} ${url.pathname} answered ${response.status}: ${explanation.slice(0, 500)}`,
      response.status,
    );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ControlPlaneError(
      `${init.method ?? 'GET'} ${url.pathname}: unexpected answer (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'not JSON'})`,
      response.status,
    );
  }
  return parsed.data;
}

async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop by a throw cancels the stream.
    if (size > RESPONSE_MAX_BYTES)
      throw new ControlPlaneError(`the answer of ${response.url} is larger than ${RESPONSE_MAX_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
