import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentCredentials, Enrollment, EnrollmentList } from '@meridian/contracts/api/enrollment';
import type { Node } from '@meridian/contracts/api/node';
import { ENROLLED_NODE_ID_PATTERN } from '@meridian/contracts/security/node-identity';
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

const newOrg = () => `org-${randomUUID().slice(0, 8)}`;
const newNodeId = () => `node-${randomUUID().slice(0, 8)}`;
const INVALID_TOKEN = 'the enrollment token is not valid: it is unknown, expired, revoked or used up';

async function expectRefused(token: string) {
  const response = await api.enroll(token);
  expect(response.status).toBe(401);
  expect(response.body).toMatchObject({ status: 401, detail: INVALID_TOKEN });
}

async function nodeEvents(nodeId: string) {
  return api.deps.dataSource.query<
    { type: string; actor: string; org_id: string; data: Record<string, unknown> }[]
  >(`SELECT type, actor, org_id, data FROM node_events WHERE node_id = $1 ORDER BY id`, [nodeId]);
}

describe('enrollment with a node id', () => {
  it('enrolls once: credentials of its own, provisioned on the broker, the node listed as enrolled', async () => {
    const orgId = newOrg();
    const nodeId = newNodeId();
    const created = await api.createToken(orgId, { nodeId, labels: { zone: 'eu' } });
    expect(created).toMatchObject({ orgId, nodeId, namePrefix: null, maxUses: 1, uses: 0, status: 'active' });
    expect(created.token).toMatch(/^mte_[A-Za-z0-9_-]{43}$/);

    const response = await api.enroll(created.token, { hostname: 'web-1.local', agentVersion: '2.0.0' });
    expect(response.status).toBe(201);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const credentials = response.body as AgentCredentials;
    const username = `${api.deps.topology.prefix}.node.${nodeId}`;
    expect(credentials).toMatchObject({
      nodeId,
      orgId,
      topologyPrefix: api.deps.topology.prefix,
      broker: { username },
      labels: { zone: 'eu' },
      signingKeys: [...api.deps.keyring.publicKeys],
    });
    expect(credentials.broker.password.length).toBeGreaterThanOrEqual(40);

    // Synced before the answer: the broker got the hash of that very password, and no password.
    const putUser = api.management.about(username).find((operation) => operation.kind === 'put-user');
    expect(putUser && isPasswordOfRabbitHash(credentials.broker.password, putUser.passwordHash)).toBe(true);
    expect(JSON.stringify(api.management.operations)).not.toContain(credentials.broker.password);
    const row = await findCredential(api.deps.dataSource, nodeId);
    expect(row).toMatchObject({
      orgId,
      brokerUsername: username,
      version: 1,
      syncedVersion: 1,
      revokedAt: null,
    });

    const node = await api.request('GET', `/nodes/${nodeId}`, { orgId });
    expect(node.body).toMatchObject({ id: nodeId, orgId, enrolled: true, revokedAt: null, capacity: 0 });
    const events = await nodeEvents(nodeId);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'NodeEnrolled',
        org_id: orgId,
        actor: `enrollment:${created.id}`,
        data: expect.objectContaining({
          enrollmentId: created.id,
          hostname: 'web-1.local',
          reenrolled: false,
        }) as unknown,
      }),
    ]);
    const enrollment = await api.request('GET', `/nodes/enrollments/${created.id}`, { orgId });
    expect(enrollment.body).toMatchObject({ uses: 1, status: 'used-up' });
    expect(enrollment.body).not.toHaveProperty('token');
  });

  it('refuses the token the second time', async () => {
    const created = await api.createToken(newOrg(), { nodeId: newNodeId() });
    await api.enrolled(created.token);
    await expectRefused(created.token);
  });

  it('refuses the token after its expiry, and an unknown token, with the same answer', async () => {
    const created = await api.createToken(newOrg(), { nodeId: newNodeId(), expiresInSeconds: 60 });
    api.deps.clock.advance(60_000);
    await expectRefused(created.token);
    await expectRefused(`mte_${'Q'.repeat(43)}`);
    const enrollment = await api.request('GET', `/nodes/enrollments/${created.id}`, { orgId: created.orgId });
    expect(enrollment.body).toMatchObject({ status: 'expired', uses: 0 });
  });

  it('refuses a revoked token; revoking is idempotent and names who did it', async () => {
    const orgId = newOrg();
    const created = await api.createToken(orgId, { nodeId: newNodeId() });
    const first = await api.request('DELETE', `/nodes/enrollments/${created.id}`, { orgId });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'revoked', revokedBy: 'user-1' });
    api.deps.clock.advance(1000);
    const again = await api.request('DELETE', `/nodes/enrollments/${created.id}`, { orgId });
    expect((again.body as Enrollment).revokedAt).toBe((first.body as Enrollment).revokedAt);
    await expectRefused(created.token);
  });

  it('gives the organisation of the enrollment, whatever the caller claims', async () => {
    const orgId = newOrg();
    const otherOrg = newOrg();
    const nodeId = newNodeId();
    const created = await api.createToken(orgId, { nodeId });
    const claimed = await api.enroll(created.token, { orgId: otherOrg });
    expect(claimed.status).toBe(400);
    const otherToken = await api.createToken(otherOrg, { namePrefix: 'x' });
    // A user's bearer token of another organisation changes nothing either.
    const response = await api.enroll(created.token, {}, { Authorization: `Bearer ${otherToken.token}` });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ nodeId, orgId });
    expect((await api.request('GET', `/nodes/${nodeId}`, { orgId: otherOrg })).status).toBe(404);
    expect((await api.request('GET', `/nodes/${nodeId}`, { orgId })).status).toBe(200);
  });

  it('refuses a node id another organisation has, without naming it (409), when creating and when enrolling', async () => {
    const nodeId = newNodeId();
    const owner = newOrg();
    const early = await api.createToken(newOrg(), { nodeId });
    await api.enrolled((await api.createToken(owner, { nodeId })).token);

    const create = await api.request('POST', '/nodes/enrollments', { orgId: newOrg(), body: { nodeId } });
    expect(create.status).toBe(409);
    expect(create.body).toMatchObject({ detail: `node id ${nodeId} is not available` });
    expect(JSON.stringify(create.body)).not.toContain(owner);
    // A token made before the id was taken: refused on use, and not used up by the attempt.
    const late = await api.enroll(early.token);
    expect(late.status).toBe(409);
    const enrollment = await api.request('GET', `/nodes/enrollments/${early.id}`, { orgId: early.orgId });
    expect(enrollment.body).toMatchObject({ uses: 0, status: 'active' });
  });
});

describe('enrollment with a name prefix', () => {
  it('enrolls up to maxUses nodes, each with an id and a user of its own', async () => {
    const orgId = newOrg();
    const created = await api.createToken(orgId, { namePrefix: 'web', maxUses: 3, labels: { role: 'web' } });
    const nodes = [];
    for (let i = 0; i < 3; i += 1) nodes.push(await api.enrolled(created.token));
    const ids = nodes.map((node) => node.nodeId);
    expect(new Set(ids).size).toBe(3);
    for (const node of nodes) {
      expect(node.nodeId).toMatch(/^web-[a-z0-9]{8}$/);
      expect(node.nodeId).toMatch(ENROLLED_NODE_ID_PATTERN);
      expect(node).toMatchObject({ orgId, labels: { role: 'web' } });
      expect(node.broker.username).toBe(`${api.deps.topology.prefix}.node.${node.nodeId}`);
    }
    expect(new Set(nodes.map((node) => node.broker.password)).size).toBe(3);
    await expectRefused(created.token);
    const listed = (await api.request('GET', '/nodes', { orgId })).body as { items: Node[] };
    expect(listed.items.map((node) => node.id).sort()).toEqual([...ids].sort());
    expect(listed.items.every((node) => node.enrolled)).toBe(true);
    const enrollment = await api.request('GET', `/nodes/enrollments/${created.id}`, { orgId });
    expect(enrollment.body).toMatchObject({ uses: 3, maxUses: 3, status: 'used-up' });
  });
});

describe('enrollment tokens of an organisation', () => {
  it('are listed newest first, a page at a time, and are a 404 to any other organisation', async () => {
    const orgId = newOrg();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await api.createToken(orgId, { namePrefix: `p${i}` })).id);
      api.deps.clock.advance(1000);
    }
    const first = (await api.request('GET', '/nodes/enrollments?limit=2', { orgId })).body as EnrollmentList;
    expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    expect(first.items[0]).not.toHaveProperty('token');
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (
      await api.request('GET', `/nodes/enrollments?limit=2&cursor=${first.nextCursor}`, { orgId })
    ).body as EnrollmentList;
    expect(second.items.map((item) => item.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();

    const stranger = newOrg();
    const theirs = (await api.request('GET', '/nodes/enrollments', { orgId: stranger }))
      .body as EnrollmentList;
    expect(theirs.items).toEqual([]);
    for (const method of ['GET', 'DELETE']) {
      const response = await api.request(method, `/nodes/enrollments/${ids[0]}`, { orgId: stranger });
      expect(response.status).toBe(404);
    }
    const still = await api.request('GET', `/nodes/enrollments/${ids[0]}`, { orgId });
    expect(still.body).toMatchObject({ status: 'active' });
  });
});
