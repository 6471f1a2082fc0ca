import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { useTestDatabase } from '../../../../../test/support/test-context.js';
import { isPasswordOfRabbitHash } from '../../domain/rabbit-password-hash.js';
import { findCredential } from '../../persistence/node-credentials.js';
import { createEnrollmentTestApi, type EnrollmentTestApi } from './enrollment.fixture.js';

const database = useTestDatabase();
let api: EnrollmentTestApi;

beforeAll(async () => {
  api = await createEnrollmentTestApi(database.url);
});
afterAll(async () => {
  await api.deps.dataSource.destroy();
});

async function enrolledNode() {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  const credentials = await api.enrolled((await api.createToken(orgId, { nodeId })).token);
  return { orgId, nodeId, credentials };
}

describe('credentials rotation', () => {
  it('gives a new password for the current one; the old one no longer works', async () => {
    const { nodeId, orgId, credentials } = await enrolledNode();
    const { username, password } = credentials.broker;
    api.deps.clock.advance(1000);

    const response = await api.rotate(username, password);
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const rotated = response.body as AgentCredentials;
    expect(rotated).toMatchObject({
      nodeId,
      orgId,
      broker: { username },
      signingKeys: credentials.signingKeys,
    });
    expect(rotated.broker.password).not.toBe(password);

    const row = await findCredential(api.deps.dataSource, nodeId);
    expect(row).toMatchObject({ version: 2, syncedVersion: 2, rotatedAt: api.deps.clock.now() });
    expect(isPasswordOfRabbitHash(rotated.broker.password, row!.passwordHash)).toBe(true);
    const putUsers = api.management.about(username).filter((operation) => operation.kind === 'put-user');
    expect(putUsers).toHaveLength(2);
    expect(putUsers.at(-1)).toMatchObject({ passwordHash: row!.passwordHash });

    const stale = await api.rotate(username, password);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('WWW-Authenticate')).toContain('Basic');
    expect((await api.rotate(username, rotated.broker.password)).status).toBe(200);
    const events = await api.deps.dataSource.query<{ type: string; actor: string }[]>(
      `SELECT type, actor FROM node_events WHERE node_id = $1 ORDER BY id`,
      [nodeId],
    );
    expect(events.map((event) => event.type)).toEqual([
      'NodeEnrolled',
      'CredentialsRotated',
      'CredentialsRotated',
    ]);
    expect(events[1]!.actor).toBe(`node:${nodeId}`);
  });

  it.each([
    ['an unknown username', (c: AgentCredentials) => [`${c.broker.username}x`, c.broker.password]],
    ['a wrong password', (c: AgentCredentials) => [c.broker.username, `${c.broker.password}x`]],
    ['the shared login', () => ['guest', 'guest']],
  ])('refuses %s with 401', async (_name, login) => {
    const { credentials } = await enrolledNode();
    const [username, password] = login(credentials) as [string, string];
    const response = await api.rotate(username, password);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      detail: 'the broker username and password are not those of an enrolled node',
    });
  });

  it('refuses a revoked node', async () => {
    const { nodeId, orgId, credentials } = await enrolledNode();
    expect((await api.request('DELETE', `/nodes/${nodeId}`, { orgId })).status).toBe(200);
    expect((await api.rotate(credentials.broker.username, credentials.broker.password)).status).toBe(401);
  });

  it('answers even when the broker is unreachable, and leaves the row for the sync loop', async () => {
    const { nodeId, credentials } = await enrolledNode();
    api.management.failure = new Error('the broker management API at http://x did not answer: ECONNREFUSED');
    try {
      const response = await api.rotate(credentials.broker.username, credentials.broker.password);
      expect(response.status).toBe(200);
    } finally {
      api.management.failure = null;
    }
    const row = await findCredential(api.deps.dataSource, nodeId);
    expect(row).toMatchObject({ version: 2, syncedVersion: 1, syncAttempts: 1 });
    expect(row!.lastSyncError).toContain('ECONNREFUSED');
  });
});

describe('enrolling a revoked node again', () => {
  it('clears the revocation and gives new credentials', async () => {
    const { nodeId, orgId, credentials } = await enrolledNode();
    await api.request('POST', `/nodes/${nodeId}/revoke`, { orgId });
    const again = await api.enrolled((await api.createToken(orgId, { nodeId })).token);
    expect(again.broker.username).toBe(credentials.broker.username);
    expect(again.broker.password).not.toBe(credentials.broker.password);
    const node = await api.request('GET', `/nodes/${nodeId}`, { orgId });
    expect(node.body).toMatchObject({ enrolled: true, revokedAt: null });
    expect((node.body as { status: string }).status).not.toBe('revoked');
    const row = await findCredential(api.deps.dataSource, nodeId);
    expect(row).toMatchObject({ version: 3, syncedVersion: 3, revokedAt: null });
    const operations = api.management.about(credentials.broker.username).map((operation) => operation.kind);
    expect(operations.lastIndexOf('delete-user')).toBeLessThan(operations.lastIndexOf('put-user'));
  });
});
