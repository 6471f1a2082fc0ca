import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { CreatedEnrollment } from '@meridian/contracts/api/enrollment';
import type { SigningKey } from '@meridian/contracts/security/command-signature';
import { topology, type Topology } from '@meridian/contracts/topology';
import { generateCommandSigningKeys } from '../support/command-signing-keys.js';
import {
  createEnrollment,
  startEnrolledAgent,
  type EnrolledAgent,
  type EnrollmentRequest,
} from '../support/enrolled-agent.js';
import { startPrivateRabbitMq, type PrivateRabbitMq } from '../support/private-rabbitmq.js';
import { startControlPlane, TEST_JWT_SECRET, type ControlPlaneProcess } from '../support/processes.js';
import { failOnLeakedProcesses, uniquePrefix, useTestDatabase, waitFor } from '../support/test-context.js';
import { signToken } from '../support/tokens.js';
import { ALL_PERMISSIONS } from './stack.js';

/** What an org admin holds: everything of ALL_PERMISSIONS plus enrolling and revoking nodes. */
export const ADMIN_PERMISSIONS = [...ALL_PERMISSIONS, 'node:admin'];

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The secure mode end to end: a private RabbitMQ with the management API, the real control plane
 * provisioning per-node broker users there (BROKER_MANAGEMENT_URL), refusing unenrolled agents
 * (REQUIRE_AGENT_ENROLLMENT=true) and signing commands with keys made for this run; real agents
 * enrolled through the API, each with its own broker login.
 */
export interface SecureStack {
  prefix: string;
  orgId: string;
  names: Topology;
  broker: PrivateRabbitMq;
  /** The broker as the control plane sees it (guest, an administrator). */
  amqpUrl: string;
  managementUrl: string;
  controlPlane: ControlPlaneProcess;
  /** The control plane's signing key, to sign commands as it does. */
  signingKey: SigningKey;
  db: pg.Pool;
  databaseUrl: string;
  /** Agents by the name given in `nodes` (or to `startAgent`). */
  agents: Map<string, EnrolledAgent>;
  agent(name: string): EnrolledAgent;
  /** `<prefix>-<name>`: the node id an agent started as `name` is enrolled under. */
  nodeIdOf(name: string): string;
  /** Bearer token of the stack's organisation with ADMIN_PERMISSIONS. */
  token: string;
  tokenFor(orgId: string, permissions?: string[]): Promise<string>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null },
  ): Promise<ApiAnswer<T>>;
  enroll(request: EnrollmentRequest, token?: string): Promise<CreatedEnrollment>;
  /** Enrolls node `<prefix>-<name>` with ENROLLMENT_TOKEN at first start; resolves once it is online. */
  startAgent(name: string, options?: { labels?: Record<string, string> }): Promise<EnrolledAgent>;
  waitForNodeStatus(nodeId: string, status: string, timeoutMs?: number): Promise<void>;
  /** Polls a task until it reaches one of `statuses`; returns it. */
  waitForStatus(taskId: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface SecureStackOptions {
  /** Agents enrolled and started in beforeAll, by name. */
  nodes?: string[];
  capacity?: number;
  env?: Record<string, string>;
  agentEnv?: Record<string, string>;
}

/**
 * Starts the secure stack once for a test file (call at its top level) and tears it all down in
 * afterAll, the private broker included. About 7 s for the broker plus a few for the processes.
 */
export function useSecureStack(options: SecureStackOptions = {}): SecureStack {
  failOnLeakedProcesses();
  const database = useTestDatabase();
  const prefix = uniquePrefix();
  const keys = generateCommandSigningKeys();
  const stack = {
    prefix,
    orgId: `org-${prefix.slice(2)}`,
    names: topology(prefix),
    signingKey: keys.key,
    agents: new Map<string, EnrolledAgent>(),
  } as SecureStack;

  stack.nodeIdOf = (name) => `${prefix}-${name}`;
  stack.agent = (name) => {
    const agent = stack.agents.get(name);
    if (!agent) throw new Error(`no agent "${name}" in this stack`);
    return agent;
  };
  stack.tokenFor = (orgId, permissions = ADMIN_PERMISSIONS) =>
    signToken({ secret: TEST_JWT_SECRET, orgId, sub: 'e2e-admin', permissions });
  stack.api = async (method, path, { body, token } = {}) => {
    const bearer = token === undefined ? stack.token : token;
    const response = await fetch(`${stack.controlPlane.baseUrl}${path}`, {
      method,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed as never, headers: response.headers };
  };
  stack.enroll = (request, token) =>
    createEnrollment(stack.controlPlane.baseUrl, token ?? stack.token, request);
  stack.waitForNodeStatus = async (nodeId, status, timeoutMs = 20_000) => {
    await waitFor(
      async () => {
        const found = await stack.api<{ status: string }>('GET', `/api/v1/nodes/${nodeId}`);
        return found.status === 200 && found.body.status === status;
      },
      { timeoutMs, description: `node ${nodeId} to be ${status}` },
    );
  };
  stack.waitForStatus = (taskId, statuses, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const { body } = await stack.api<Record<string, unknown>>('GET', `/api/v1/tasks/${taskId}`);
        return statuses.includes(String(body['status'])) ? body : undefined;
      },
      { timeoutMs, description: `task ${taskId} to reach ${statuses.join('|')}` },
    );
  stack.startAgent = async (name, { labels } = {}) => {
    const nodeId = stack.nodeIdOf(name);
    const enrollment = await stack.enroll({ nodeId, ...(labels ? { labels } : {}) });
    const agent = await startEnrolledAgent({
      amqpUrl: stack.amqpUrl,
      prefix,
      controlPlaneUrl: stack.controlPlane.baseUrl,
      enrollmentToken: enrollment.token,
      maxConcurrency: options.capacity ?? 4,
      name: `agent ${nodeId}`,
      env: { HEARTBEAT_INTERVAL_MS: '1000', ...options.agentEnv },
    });
    stack.agents.set(name, agent);
    await stack.waitForNodeStatus(nodeId, 'online');
    return agent;
  };

  beforeAll(async () => {
    stack.broker = await startPrivateRabbitMq({ management: true });
    stack.amqpUrl = stack.broker.url;
    stack.managementUrl = stack.broker.managementUrl!;
    stack.databaseUrl = database.url;
    stack.db = new pg.Pool({ connectionString: database.url, max: 2 });
    stack.controlPlane = await startControlPlane({
      databaseUrl: database.url,
      amqpUrl: stack.amqpUrl,
      prefix,
      env: {
        POLL_INTERVAL_MS: '200',
        BROKER_MANAGEMENT_URL: stack.managementUrl,
        REQUIRE_AGENT_ENROLLMENT: 'true',
        COMMAND_SIGNING_KEYS: keys.json,
        ...options.env,
      },
    });
    stack.token = await stack.tokenFor(stack.orgId);
    for (const name of options.nodes ?? []) await stack.startAgent(name);
  });

  afterAll(async () => {
    await Promise.all([...stack.agents.values()].map((agent) => agent.stop()));
    await stack.controlPlane?.stop();
    await stack.db?.end();
    await stack.broker?.destroy();
  });
  return stack;
}
