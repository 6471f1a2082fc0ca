import type { AgentCredentials, CreatedEnrollment } from '@meridian/contracts/api/enrollment';
import { createTestAppDeps } from '../../../../../test/support/app-deps.js';
import type { BrokerOperation } from '../../domain/credential-sync.js';
import { createAuthenticator } from '../../http/auth.js';
import { createApp } from '../../http/create-app.js';
import { signTestToken, TEST_SECRET } from '../../http/test-tokens.js';
import type { BrokerManagement } from '../broker-management.js';

/** A management API that records what it is asked and can be made to fail. */
export class RecordingBrokerManagement implements BrokerManagement {
  readonly location = 'http://recording-broker';
  readonly operations: BrokerOperation[] = [];
  failure: Error | null = null;

  apply(operation: BrokerOperation): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.operations.push(operation);
    return Promise.resolve();
  }

  /** The operations about one user or one of its queues. */
  about(username: string): BrokerOperation[] {
    return this.operations.filter((operation) =>
      'username' in operation ? operation.username === username : operation.queue.startsWith(`${username}.`),
    );
  }
}

export interface RequestOptions {
  /** The caller's organisation (a bearer token); undefined: no token. */
  orgId?: string;
  permissions?: string[];
  body?: unknown;
  headers?: Record<string, string>;
}

/** The HTTP API on a real database, with a manual clock and a recording management API. */
export async function createEnrollmentTestApi(databaseUrl: string) {
  const deps = await createTestAppDeps(databaseUrl);
  const management = new RecordingBrokerManagement();
  deps.brokerManagement = management;
  const app = createApp({ app: deps, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {} });

  const request = async (method: string, path: string, options: RequestOptions = {}) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
    if (options.orgId !== undefined) {
      const token = await signTestToken({
        orgId: options.orgId,
        permissions: options.permissions ?? ['node:admin', 'node:read', 'task:read'],
      });
      headers['Authorization'] = `Bearer ${token}`;
    }
    const response = await app.request(`/api/v1${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const body: unknown = await response.json();
    return { status: response.status, headers: response.headers, body };
  };

  const createToken = async (orgId: string, body: Record<string, unknown>): Promise<CreatedEnrollment> => {
    const response = await request('POST', '/nodes/enrollments', { orgId, body });
    if (response.status !== 201) throw new Error(`enrollment not created: ${JSON.stringify(response.body)}`);
    return response.body as CreatedEnrollment;
  };

  const enroll = (token: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    request('POST', '/agent/enroll', { body: { token, ...extra }, headers });

  const enrolled = async (token: string): Promise<AgentCredentials> => {
    const response = await enroll(token);
    if (response.status !== 201) throw new Error(`not enrolled: ${JSON.stringify(response.body)}`);
    return response.body as AgentCredentials;
  };

  const basic = (username: string, password: string) => ({
    Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  });

  const rotate = (username: string, password: string) =>
    request('POST', '/agent/credentials/rotate', { headers: basic(username, password) });

  return { deps, management, request, createToken, enroll, enrolled, rotate };
}

export type EnrollmentTestApi = Awaited<ReturnType<typeof createEnrollmentTestApi>>;
