import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NodeServerList } from '@meridian/contracts/api/node-server';
import type { Problem } from '@meridian/contracts/api/problem';
import type { Task, TaskList } from '@meridian/contracts/api/task';
import { heartbeat } from '../../../../../test/support/app-deps.js';
import { dispatchPendingTasks } from '../../app/dispatch-pending-tasks.js';
import { recordAgentMessages } from '../../app/record-agent-messages.js';
import { reportServers, serverReport } from '../nodes/node-servers.fixture.js';
import { call, deps, executionsOf, freshOrg, json, useRunsFixture } from './runs.fixture.js';

useRunsFixture();

const SPEC = {
  argv: ['node', 'server.js'],
  readyPattern: 'Done \\(.*\\)! For help',
  stop: { type: 'command', command: 'stop' },
};
const serverTask = (type: string, serverId: string, fields: Record<string, unknown> = {}) => ({
  type,
  targetType: 'Server',
  targetId: serverId,
  ...fields,
});
const newServerId = () => `mc-${randomUUID().slice(0, 8)}`;

async function post(orgId: string, body: unknown, headers: Record<string, string> = {}) {
  return call(orgId, 'POST', '/tasks', { body, headers });
}

async function refusal(orgId: string, body: unknown, status: 400 | 422): Promise<Problem> {
  const problem = await json<Problem>(await post(orgId, body), status);
  expect((await json<TaskList>(await call(orgId, 'GET', '/tasks'), 200)).total).toBe(0);
  return problem;
}

/** A second node of the organisation, known from its heartbeat. */
async function anotherNode(orgId: string): Promise<string> {
  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  await recordAgentMessages(deps, [heartbeat(nodeId, orgId, 10, deps.clock.now())]);
  return nodeId;
}

describe('POST /api/v1/tasks validates the payload of a known type', () => {
  it('answers 400 naming the field of a bad ServerStart payload, and creates nothing', async () => {
    const { orgId, nodeId } = await freshOrg();
    const problem = await refusal(
      orgId,
      serverTask('ServerStart', newServerId(), {
        nodeId,
        payload: { spec: { argv: [], workingDirectory: '../x' } },
      }),
      400,
    );
    expect(problem.errors?.map((e) => e.field)).toEqual([
      'body.payload.spec.argv',
      'body.payload.spec.workingDirectory',
    ]);
  });

  it('answers 400 for a Command without argv, with or without an Idempotency-Key', async () => {
    const { orgId } = await freshOrg();
    const body = { type: 'Command', targetType: 'Service', targetId: 's', payload: { command: 'ls -l' } };
    for (const headers of [{}, { 'Idempotency-Key': randomUUID() }] as Record<string, string>[]) {
      const problem = await json<Problem>(await post(orgId, body, headers), 400);
      expect(problem.errors?.[0]).toMatchObject({
        field: 'body.payload.command',
        message: expect.stringMatching(/shell/) as string,
      });
    }
  });

  it('stores the payload as sent (defaults are the agent’s to apply), and lets unknown types through', async () => {
    const { orgId, nodeId } = await freshOrg();
    const payload = { spec: { argv: ['node', 'server.js'] } };
    const task = await json<Task>(
      await post(orgId, serverTask('ServerStart', newServerId(), { nodeId, payload })),
      201,
    );
    expect(task.payload).toEqual(payload);
    const custom = { type: 'Reindex', targetType: 'Index', targetId: 'i', payload: { anything: [1] } };
    expect((await post(orgId, custom)).status).toBe(201);
  });

  it('answers 400 when a server task does not target a Server, or the server id is not one', async () => {
    const { orgId, nodeId } = await freshOrg();
    const onNode = { type: 'ServerStop', targetType: 'Node', targetId: nodeId };
    expect((await refusal(orgId, onNode, 400)).errors?.map((e) => e.field)).toEqual(['body.targetType']);
    const badId = serverTask('ServerStop', '../etc');
    expect((await refusal(orgId, badId, 400)).errors?.map((e) => e.field)).toEqual(['body.targetId']);
  });
});

describe('where a Server task goes', () => {
  it('places a new server with its first ServerStart; the next tasks follow it there', async () => {
    const { orgId } = await freshOrg();
    const host = await anotherNode(orgId);
    const serverId = newServerId();
    const start = await json<Task>(
      await post(orgId, serverTask('ServerStart', serverId, { nodeId: host, payload: { spec: SPEC } })),
      201,
    );
    expect(start.nodeId).toBe(host);
    const listed = await json<NodeServerList>(await call(orgId, 'GET', `/nodes/${host}/servers`), 200);
    expect(listed.items).toEqual([
      expect.objectContaining({
        serverId,
        nodeId: host,
        state: 'assigned',
        reportedAt: null,
        changedAt: null,
      }),
    ]);

    // Before any heartbeat reports it, a command for the server goes to the same node.
    const command = await json<Task>(
      await post(orgId, serverTask('ServerCommand', serverId, { payload: { command: 'say hi' } })),
      201,
    );
    expect(command.nodeId).toBe(host);
    await dispatchPendingTasks(deps, 100);
    expect((await executionsOf(start.id))[0]?.nodeId).toBe(host);

    // The node reports it: the assigned row takes the report.
    await reportServers(deps, orgId, host, [serverReport(serverId, { state: 'starting' })]);
    const reported = await json<NodeServerList>(await call(orgId, 'GET', `/nodes/${host}/servers`), 200);
    expect(reported.items[0]).toMatchObject({
      state: 'starting',
      reportedAt: deps.clock.now().toISOString(),
    });
  });

  it('sends a task for a reported server to its node, and refuses another nodeId (422)', async () => {
    const { orgId, nodeId } = await freshOrg();
    const other = await anotherNode(orgId);
    const serverId = newServerId();
    await reportServers(deps, orgId, nodeId, [serverReport(serverId)]);
    const stop = await json<Task>(await post(orgId, serverTask('ServerStop', serverId)), 201);
    expect(stop.nodeId).toBe(nodeId);
    const same = await json<Task>(await post(orgId, serverTask('ServerStatus', serverId, { nodeId })), 201);
    expect(same.nodeId).toBe(nodeId);

    const refused = await json<Problem>(
      await post(orgId, serverTask('ServerStop', serverId, { nodeId: other })),
      422,
    );
    expect(refused.errors).toEqual([
      {
        field: 'nodeId',
        message: `server ${serverId} is hosted on node ${nodeId}: give that nodeId or none`,
      },
    ]);
  });

  it.each([
    [
      'without nodeId',
      (_nodeId: string) => ({ payload: { spec: SPEC } }),
      'nodeId',
      /no node hosts server .* yet: give nodeId/,
    ],
    [
      'on an unknown node',
      () => ({ nodeId: 'nowhere', payload: { spec: SPEC } }),
      'nodeId',
      /node nowhere is not a node of your organisation/,
    ],
    ['without a spec', (nodeId: string) => ({ nodeId }), 'payload.spec', /needs payload.spec/],
  ])('answers 422 for the first ServerStart of a new server %s', async (_name, fields, field, message) => {
    const { orgId, nodeId } = await freshOrg();
    const problem = await refusal(orgId, serverTask('ServerStart', newServerId(), fields(nodeId)), 422);
    expect(problem.errors).toEqual([{ field, message: expect.stringMatching(message) as string }]);
  });

  it('answers 422 for a ServerStart on another organisation’s node, or any other task on a new server', async () => {
    const { orgId } = await freshOrg();
    const foreign = await freshOrg();
    const onForeign = serverTask('ServerStart', newServerId(), {
      nodeId: foreign.nodeId,
      payload: { spec: SPEC },
    });
    expect((await refusal(orgId, onForeign, 422)).errors?.[0]?.field).toBe('nodeId');
    const backup = serverTask('Backup', newServerId(), {});
    expect((await refusal(orgId, backup, 422)).errors?.[0]).toMatchObject({
      field: 'targetId',
      message: expect.stringMatching(/no node hosts server/) as string,
    });
  });

  it('does not see another organisation’s server of the same id', async () => {
    const { orgId, nodeId } = await freshOrg();
    const foreign = await freshOrg();
    const serverId = newServerId();
    await reportServers(deps, foreign.orgId, foreign.nodeId, [serverReport(serverId)]);
    expect((await refusal(orgId, serverTask('ServerStop', serverId), 422)).errors?.[0]?.field).toBe(
      'targetId',
    );
    const start = serverTask('ServerStart', serverId, { nodeId, payload: { spec: SPEC } });
    expect((await json<Task>(await post(orgId, start), 201)).nodeId).toBe(nodeId);
  });

  it('places a new server once when two first starts race for two nodes', async () => {
    const { orgId, nodeId } = await freshOrg();
    const other = await anotherNode(orgId);
    const serverId = newServerId();
    const responses = await Promise.all(
      [nodeId, other].map((node) =>
        post(orgId, serverTask('ServerStart', serverId, { nodeId: node, payload: { spec: SPEC } })),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, 422]);
    const created = await json<Task>(
      responses.find((r) => r.status === 201)!,
      201,
    );
    const refused = await json<Problem>(
      responses.find((r) => r.status === 422)!,
      422,
    );
    expect(refused.errors).toEqual([
      {
        field: 'nodeId',
        message: `server ${serverId} is hosted on node ${created.nodeId}: give that nodeId or none`,
      },
    ]);
  });

  it('places a new server under an Idempotency-Key, and replays the same task', async () => {
    const { orgId, nodeId } = await freshOrg();
    const body = serverTask('ServerStart', newServerId(), { nodeId, payload: { spec: SPEC } });
    const headers = { 'Idempotency-Key': randomUUID() };
    const first = await json<Task>(await post(orgId, body, headers), 201);
    const again = await post(orgId, body, headers);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await json<Task>(again, 201)).id).toBe(first.id);
    expect(first.nodeId).toBe(nodeId);
  });
});

describe('where a Server task goes, repeated under an Idempotency-Key', () => {
  it('replays the first answer even after the server moved, where a new request is refused', async () => {
    const { orgId, nodeId } = await freshOrg();
    const other = await anotherNode(orgId);
    const serverId = newServerId();
    const body = serverTask('ServerStart', serverId, { nodeId, payload: { spec: SPEC } });
    const headers = { 'Idempotency-Key': randomUUID() };
    const first = await json<Task>(await post(orgId, body, headers), 201);
    await reportServers(deps, orgId, other, [serverReport(serverId)]);

    const again = await post(orgId, body, headers);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await json<Task>(again, 201)).toEqual(first);
    const fresh = await json<Problem>(await post(orgId, body, { 'Idempotency-Key': randomUUID() }), 422);
    expect(fresh.errors?.[0]?.field).toBe('nodeId');
  });
});

describe('where a Node task goes', () => {
  it('is pinned to the node its targetId names', async () => {
    const { orgId } = await freshOrg();
    const target = await anotherNode(orgId);
    const body = { type: 'Command', targetType: 'Node', targetId: target, payload: { command: ['uptime'] } };
    expect((await json<Task>(await post(orgId, body), 201)).nodeId).toBe(target);
    expect((await json<Task>(await post(orgId, { ...body, nodeId: target }), 201)).nodeId).toBe(target);
  });

  it('answers 422 for a node not of the organisation, or a nodeId naming another node', async () => {
    const { orgId, nodeId } = await freshOrg();
    const foreign = await freshOrg();
    const other = await anotherNode(orgId);
    const body = (fields: Record<string, unknown>) => ({ type: 'Echo', targetType: 'Node', ...fields });
    for (const targetId of [foreign.nodeId, 'nowhere']) {
      expect((await refusal(orgId, body({ targetId }), 422)).errors?.[0]?.field).toBe('targetId');
    }
    expect((await refusal(orgId, body({ targetId: nodeId, nodeId: other }), 422)).errors?.[0]?.field).toBe(
      'nodeId',
    );
  });
});
