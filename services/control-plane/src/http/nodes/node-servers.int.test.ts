import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Node } from '@meridian/contracts/api/node';
import type { NodeServerList } from '@meridian/contracts/api/node-server';
import type { Problem } from '@meridian/contracts/api/problem';
import { call, deps, freshOrg, json, useRunsFixture } from '../tasks/runs.fixture.js';
import { reportServers, serverReport } from './node-servers.fixture.js';

useRunsFixture();

const servers = async (orgId: string, nodeId: string, query = '') =>
  json<NodeServerList>(await call(orgId, 'GET', `/nodes/${nodeId}/servers${query}`), 200);
const newNodeId = () => `node-${randomUUID().slice(0, 8)}`;

describe('GET /api/v1/nodes/{id}/servers', () => {
  it('lists the servers the node’s heartbeats report, in server id order, a page at a time', async () => {
    const { orgId, nodeId } = await freshOrg();
    await reportServers(deps, orgId, nodeId, [
      serverReport('mc-c', { state: 'crashed', pid: null, lastExitCode: 1, restarts: 3 }),
      serverReport('mc-a'),
      serverReport('mc-b', { state: 'stopped', pid: null, lastExitCode: null, lastExitSignal: 'SIGKILL' }),
    ]);

    const first = await servers(orgId, nodeId, '?limit=2');
    expect(first).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(first.items).toEqual([
      {
        serverId: 'mc-a',
        nodeId,
        state: 'running',
        pid: 4242,
        startedAt: '2026-06-01T11:59:00.000Z',
        lastExitCode: null,
        lastExitSignal: null,
        restarts: 0,
        changedAt: '2026-06-01T12:00:00.000Z',
        reportedAt: deps.clock.now().toISOString(),
      },
      expect.objectContaining({ serverId: 'mc-b', state: 'stopped', lastExitSignal: 'SIGKILL' }),
    ]);
    const second = await servers(orgId, nodeId, '?limit=2&page=2');
    expect(second.items).toEqual([
      expect.objectContaining({ serverId: 'mc-c', state: 'crashed', lastExitCode: 1, restarts: 3 }),
    ]);
  });

  it('answers 404 for an unknown node and for another organisation’s node', async () => {
    const { orgId, nodeId } = await freshOrg();
    await reportServers(deps, orgId, nodeId, [serverReport('mc-1')]);
    const other = await freshOrg();
    for (const [caller, node] of [
      [other.orgId, nodeId],
      [orgId, newNodeId()],
    ] as const) {
      const problem = await json<Problem>(await call(caller, 'GET', `/nodes/${node}/servers`), 404);
      expect(problem.detail).toContain(node);
    }
  });

  it('needs node:read', async () => {
    const { orgId, nodeId } = await freshOrg();
    const response = await call(orgId, 'GET', `/nodes/${nodeId}/servers`, { permissions: ['task:read'] });
    expect(response.status).toBe(403);
  });

  it('ignores a report older than the stored state: out-of-order heartbeats change nothing', async () => {
    const { orgId, nodeId } = await freshOrg();
    await reportServers(deps, orgId, nodeId, [
      serverReport('mc-1', { state: 'stopped', pid: null, changedAt: '2026-06-01T12:00:10.000Z' }),
    ]);
    await reportServers(deps, orgId, nodeId, [
      serverReport('mc-1', { state: 'running', changedAt: '2026-06-01T12:00:05.000Z' }),
    ]);
    expect((await servers(orgId, nodeId)).items).toEqual([
      expect.objectContaining({ serverId: 'mc-1', state: 'stopped', changedAt: '2026-06-01T12:00:10.000Z' }),
    ]);
  });

  it('moves a server to the node of the organisation that reports its later state', async () => {
    const { orgId, nodeId: first } = await freshOrg();
    const second = newNodeId();
    await reportServers(deps, orgId, first, [serverReport('mc-1', { state: 'stopped', pid: null })]);
    await reportServers(deps, orgId, second, [
      serverReport('mc-1', { changedAt: '2026-06-01T12:05:00.000Z' }),
    ]);
    expect((await servers(orgId, first)).total).toBe(0);
    expect((await servers(orgId, second)).items).toEqual([
      expect.objectContaining({ serverId: 'mc-1', nodeId: second, state: 'running' }),
    ]);
    // The first node still lists it in its own (older) heartbeats: it stays where it is.
    await reportServers(deps, orgId, first, [serverReport('mc-1', { state: 'stopped', pid: null })]);
    expect((await servers(orgId, second)).total).toBe(1);
  });

  it('keeps one organisation’s servers from another’s, even under the same server id', async () => {
    const a = await freshOrg();
    const b = await freshOrg();
    await reportServers(deps, a.orgId, a.nodeId, [serverReport('shared-id')]);
    await reportServers(deps, b.orgId, b.nodeId, [
      serverReport('shared-id', { state: 'crashed', pid: null }),
    ]);
    expect((await servers(a.orgId, a.nodeId)).items[0]).toMatchObject({ nodeId: a.nodeId, state: 'running' });
    expect((await servers(b.orgId, b.nodeId)).items[0]).toMatchObject({ nodeId: b.nodeId, state: 'crashed' });
  });
});

describe('handler types', () => {
  it('are stored from the heartbeat and shown on the node; a heartbeat without them keeps them', async () => {
    const { orgId, nodeId } = await freshOrg();
    const node = async () => json<Node>(await call(orgId, 'GET', `/nodes/${nodeId}`), 200);
    expect((await node()).handlerTypes).toBeNull();

    await reportServers(deps, orgId, nodeId, [], { handlerTypes: ['Command', 'Echo', 'ServerStart'] });
    expect((await node()).handlerTypes).toEqual(['Command', 'Echo', 'ServerStart']);
    const listed = await json<{ items: Node[] }>(await call(orgId, 'GET', '/nodes'), 200);
    expect(listed.items.find((n) => n.id === nodeId)?.handlerTypes).toEqual([
      'Command',
      'Echo',
      'ServerStart',
    ]);

    await reportServers(deps, orgId, nodeId, []);
    expect((await node()).handlerTypes).toEqual(['Command', 'Echo', 'ServerStart']);
    await reportServers(deps, orgId, nodeId, [], { handlerTypes: [] });
    expect((await node()).handlerTypes).toEqual([]);
  });
});
