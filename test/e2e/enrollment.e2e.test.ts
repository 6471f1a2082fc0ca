import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentCredentialsSchema, type Enrollment } from '@meridian/contracts/api/enrollment';
import { brokerUsername } from '@meridian/contracts/security/node-identity';
import { brokerConnections, brokerUserExists, createBrokerUser } from '../support/broker-management.js';
import {
  credentialsFile,
  enrollWithCli,
  newAgentDataDir,
  readAgentCredentials,
  startEnrolledAgent,
} from '../support/enrolled-agent.js';
import { findBrokerManagement } from '../support/find-broker-management.js';
import { findFreePort } from '../support/processes.js';
import { waitFor } from '../support/test-context.js';
import { commandTask } from './stack.js';
import { useSecureStack } from './secure-stack.js';

const stack = useSecureStack();

interface Problem {
  status: number;
  title: string;
  detail?: string;
}

/** `POST /api/v1/agent/enroll` as an agent sends it: no bearer token, the enrollment token is the credential. */
function enrollDirectly(body: Record<string, unknown>) {
  return stack.api<Problem & Record<string, unknown>>('POST', '/api/v1/agent/enroll', { body, token: null });
}

function uniqueName(): string {
  return randomBytes(3).toString('hex');
}

async function credentialRows(nodeId: string): Promise<number> {
  const { rows } = await stack.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM node_credentials WHERE node_id = $1',
    [nodeId],
  );
  return rows[0]?.n ?? 0;
}

describe('enrollment end to end', () => {
  it('enrolls an agent with a one-time token: online in the enrollment’s organisation, on a broker user of its own, running tasks', async () => {
    const agent = await stack.startAgent(`first-${uniqueName()}`, { labels: { zone: 'e2e' } });
    const nodeId = agent.nodeId;
    const username = brokerUsername(stack.prefix, nodeId);

    expect(agent.credentials).toMatchObject({
      nodeId,
      orgId: stack.orgId,
      topologyPrefix: stack.prefix,
      broker: { username },
      labels: { zone: 'e2e' },
    });
    expect(agent.credentials.signingKeys.map((key) => key.keyId)).toContain(stack.signingKey.keyId);
    // Only the agent's user may read its credentials.
    expect(statSync(credentialsFile(agent.dataDir)).mode & 0o777).toBe(0o600);

    const node = await stack.api<Record<string, unknown>>('GET', `/api/v1/nodes/${nodeId}`);
    expect(node.body).toMatchObject({ id: nodeId, orgId: stack.orgId, status: 'online', enrolled: true });
    const outsider = await stack.tokenFor(`other-${uniqueName()}`);
    expect((await stack.api('GET', `/api/v1/nodes/${nodeId}`, { token: outsider })).status).toBe(404);

    // The broker knows the node's own user, and the agent is connected as that user.
    expect(await brokerUserExists(stack.managementUrl, username)).toBe(true);
    // (The management API lists a new connection once its statistics come, ~2 s later.)
    await waitFor(async () => (await brokerConnections(stack.managementUrl, username)).length > 0, {
      description: `a connection of ${username} listed`,
    });

    // Signed commands reach it and its reports are believed: a task runs to the end.
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: commandTask(['echo', 'enrolled'], { nodeId }),
    });
    expect(created.status).toBe(201);
    expect(await stack.waitForStatus(created.body.id, ['Completed', 'Failed', 'Timeout'])).toMatchObject({
      status: 'Completed',
    });
    const runs = await stack.api<{ items: { nodeId: string; output: string }[] }>(
      'GET',
      `/api/v1/tasks/${created.body.id}/executions`,
    );
    expect(runs.body.items).toEqual([expect.objectContaining({ nodeId, output: 'enrolled\n' })]);
  });

  it('refuses a used, an expired, a revoked and an unknown token, all with one 401 that tells them apart to nobody', async () => {
    const used = await stack.enroll({ nodeId: stack.nodeIdOf(`used-${uniqueName()}`) });
    const first = await enrollDirectly({ token: used.token });
    expect(first.status).toBe(201);
    expect(AgentCredentialsSchema.parse(first.body)).toMatchObject({
      nodeId: used.nodeId,
      orgId: stack.orgId,
    });
    const again = await enrollDirectly({ token: used.token });

    const expired = await stack.enroll({ nodeId: stack.nodeIdOf(`expired-${uniqueName()}`) });
    // The shortest expiry is a minute: move this one's into the past rather than wait.
    await stack.db.query(
      `UPDATE node_enrollments SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.id],
    );
    const late = await enrollDirectly({ token: expired.token });

    const revoked = await stack.enroll({ nodeId: stack.nodeIdOf(`revoked-${uniqueName()}`) });
    const deleted = await stack.api('DELETE', `/api/v1/nodes/enrollments/${revoked.id}`);
    expect(deleted.status).toBeLessThan(300);
    const afterRevoke = await enrollDirectly({ token: revoked.token });

    const unknown = await enrollDirectly({ token: `mte_${randomBytes(32).toString('base64url')}` });

    const refusals = [again, late, afterRevoke, unknown];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(401);
      expect(refusal.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(new Set(refusals.map((r) => `${r.body.title}|${r.body.detail ?? ''}`)).size).toBe(1);

    const status = async (id: string) =>
      (await stack.api<Enrollment>('GET', `/api/v1/nodes/enrollments/${id}`)).body;
    expect(await status(used.id)).toMatchObject({ uses: 1, status: 'used-up' });
    expect(await status(expired.id)).toMatchObject({ uses: 0, status: 'expired' });
    expect(await status(revoked.id)).toMatchObject({ uses: 0, status: 'revoked' });
    expect(await credentialRows(used.nodeId!)).toBe(1);
    expect(await credentialRows(expired.nodeId!)).toBe(0);
    expect(await credentialRows(revoked.nodeId!)).toBe(0);
  });

  it('enrolls a new node per use of a name-prefix token, up to its maximum', async () => {
    const namePrefix = `${stack.prefix}-pool`;
    const pool = await stack.enroll({ namePrefix, maxUses: 2 });
    const one = await enrollDirectly({ token: pool.token });
    const two = await enrollDirectly({ token: pool.token });
    const three = await enrollDirectly({ token: pool.token });
    expect([one.status, two.status, three.status]).toEqual([201, 201, 401]);
    const ids = [one, two].map((answer) => AgentCredentialsSchema.parse(answer.body).nodeId);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${namePrefix}-[a-z0-9]{8}$`));
    expect(new Set(ids).size).toBe(2);
  });

  it('puts the node in the enrollment’s organisation, whatever the agent claims', async () => {
    const otherOrg = `other-${uniqueName()}`;
    const otherAdmin = await stack.tokenFor(otherOrg);
    const enrollment = await stack.enroll({ nodeId: stack.nodeIdOf(`claims-${uniqueName()}`) }, otherAdmin);
    expect(enrollment.orgId).toBe(otherOrg);

    // The request has no place for an organisation: one added is refused, and the token stays unused.
    const claiming = await enrollDirectly({ token: enrollment.token, orgId: stack.orgId });
    expect(claiming.status).toBe(400);
    const credentials = await enrollDirectly({ token: enrollment.token, hostname: stack.orgId });
    expect(credentials.status).toBe(201);
    expect(AgentCredentialsSchema.parse(credentials.body).orgId).toBe(otherOrg);

    // A node id another organisation already holds cannot be enrolled: the answer names no organisation.
    const taken = await stack.api<Problem>('POST', '/api/v1/nodes/enrollments', {
      body: { nodeId: enrollment.nodeId },
    });
    expect(taken.status).toBe(409);
    expect(JSON.stringify(taken.body)).not.toContain(otherOrg);
  });

  it('enrolls with `npm run agent:enroll`, refuses the same token again without touching the saved credentials, and the agent runs from them', async () => {
    const nodeId = stack.nodeIdOf(`cli-${uniqueName()}`);
    const enrollment = await stack.enroll({ nodeId });
    const dataDir = newAgentDataDir();
    const cli = { token: enrollment.token, controlPlaneUrl: stack.controlPlane.baseUrl, dataDir };

    const enrolled = await enrollWithCli(cli);
    expect(enrolled.code, `${enrolled.stdout}\n${enrolled.stderr}`).toBe(0);
    const saved = readAgentCredentials(dataDir);
    expect(saved).toMatchObject({ nodeId, orgId: stack.orgId });

    const second = await enrollWithCli({ ...cli, dataDir: newAgentDataDir() });
    expect(second.code).not.toBe(0);
    expect(`${second.stdout}\n${second.stderr}`).toMatch(/401|refused|invalid|expired|used/i);
    expect(readAgentCredentials(dataDir)).toEqual(saved);

    const agent = await startEnrolledAgent({
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      controlPlaneUrl: stack.controlPlane.baseUrl,
      dataDir,
      name: `agent ${nodeId}`,
    });
    try {
      expect(agent.nodeId).toBe(nodeId);
      await stack.waitForNodeStatus(nodeId, 'online');
    } finally {
      await agent.stop();
    }
  });
});

describe('what npm start asks the broker before enrolling its local agent', () => {
  it('finds a management API that lets an administrator provision users', async () => {
    expect(
      await findBrokerManagement({ amqpUrl: stack.amqpUrl, configuredUrl: stack.managementUrl }),
    ).toEqual({ available: true, url: stack.managementUrl });
  });

  it('falls back to development mode, saying why, when nothing answers, the login is wrong or no administrator', async () => {
    const base = new URL(stack.managementUrl);
    const at = (user: string, password: string, port = base.port) =>
      `http://${user}:${password}@127.0.0.1:${port}`;
    const user = `viewer-${uniqueName()}`;
    await createBrokerUser(stack.managementUrl, {
      name: user,
      password: 'viewer-password',
      tags: 'monitoring',
      permissions: { configure: '^$', write: '^$', read: '^$' },
    });
    const cases = [
      [at('guest', 'guest', String(await findFreePort())), /nothing answered/],
      [at('guest', 'wrong'), /refused the login of "guest"/],
      [at(user, 'viewer-password'), /is not an administrator/],
    ] as const;
    for (const [configuredUrl, reason] of cases) {
      const found = await findBrokerManagement({ amqpUrl: stack.amqpUrl, configuredUrl });
      expect(found.available).toBe(false);
      expect(found.available ? '' : found.reason).toMatch(reason);
    }
  });
});
