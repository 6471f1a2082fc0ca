import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '@meridian/contracts/api/node';
import { actorOf, heartbeat } from '../../../../test/support/app-deps.js';
import { useTestDatabase } from '../../../../test/support/test-context.js';
import { ExecutionEntity } from '../persistence/entities/execution.entity.js';
import { TaskEntity } from '../persistence/entities/task.entity.js';
import { findCredential } from '../persistence/node-credentials.js';
import { createTask } from './create-task.js';
import { dispatchPendingTasks } from './dispatch-pending-tasks.js';
import { createEnrollmentTestApi, type EnrollmentTestApi } from './enrollment/enrollment.fixture.js';
import { giveUpCancelId } from './give-up-executions.js';
import { recordAgentMessages } from './record-agent-messages.js';

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

/** A node of the development mode (shared login): known from its heartbeats, no credentials. */
async function beat(nodeId: string, orgId: string) {
  await recordAgentMessages(api.deps, [heartbeat(nodeId, orgId, 10, api.deps.clock.now())]);
}

async function taskOn(orgId: string) {
  const task = await createTask(api.deps, actorOf(orgId), {
    type: 'Command',
    name: 'print',
    priority: 'Normal',
    targetType: 'server',
    targetId: 'srv-1',
    payload: { command: ['echo', 'hi'] },
    metadata: {},
  });
  await dispatchPendingTasks(api.deps, 100);
  return api.deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
}

describe('revoking a node', () => {
  it('ends its executions as a lost node’s and retries the task on another node; it gets no more work', async () => {
    const orgId = newOrg();
    const [revoked, other] = [newNodeId(), newNodeId()];
    await beat(revoked, orgId);
    const task = await taskOn(orgId);
    const first = await api.deps.dataSource
      .getRepository(ExecutionEntity)
      .findOneByOrFail({ id: task.currentExecutionId! });
    expect(first.nodeId).toBe(revoked);
    await beat(other, orgId);

    const response = await api.request('POST', `/nodes/${revoked}/revoke`, { orgId });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: revoked, status: 'revoked', enrolled: false, runningCount: 0 });

    const ended = await api.deps.dataSource.getRepository(ExecutionEntity).findOneByOrFail({ id: first.id });
    expect(ended).toMatchObject({ status: 'AgentLost', errorMessage: 'the node was revoked' });
    expect(ended.releasedAt).not.toBeNull();
    const retrying = await api.deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
    expect(retrying).toMatchObject({ status: 'Retrying', retryCount: 1 });
    const events = await api.deps.dataSource.query<
      { type: string; actor: string; data: Record<string, unknown> }[]
    >(`SELECT type, actor, data FROM task_events WHERE task_id = $1 AND type = 'ExecutionLost'`, [task.id]);
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'system:node-revocation',
        data: expect.objectContaining({ nodeId: revoked, revokedBy: 'user-1' }) as unknown,
      }),
    ]);
    const cancels = await api.deps.dataSource.query<{ message_id: string }[]>(
      `SELECT message_id FROM outbox WHERE message_id = $1`,
      [giveUpCancelId(first.id)],
    );
    expect(cancels).toHaveLength(1);
    const nodeEvents = await api.deps.dataSource.query<
      { type: string; actor: string; data: { executionsGivenUp: number } }[]
    >(`SELECT type, actor, data FROM node_events WHERE node_id = $1 AND type = 'NodeRevoked'`, [revoked]);
    expect(nodeEvents).toEqual([{ type: 'NodeRevoked', actor: 'user-1', data: { executionsGivenUp: 1 } }]);

    // Past the retry's backoff, both agents still heartbeating: the task goes to the other node.
    api.deps.clock.advance(10_000);
    await beat(revoked, orgId);
    await beat(other, orgId);
    await dispatchPendingTasks(api.deps, 100);
    const retried = await api.deps.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
    expect(retried.currentExecutionId).not.toBe(first.id);
    const second = await api.deps.dataSource
      .getRepository(ExecutionEntity)
      .findOneByOrFail({ id: retried.currentExecutionId! });
    expect(second.nodeId).toBe(other);

    // A revoked node that still heartbeats stays revoked and gets nothing.
    const more = await taskOn(orgId);
    const placed = await api.deps.dataSource
      .getRepository(ExecutionEntity)
      .findOneByOrFail({ id: more.currentExecutionId! });
    expect(placed.nodeId).toBe(other);
    const node = await api.request('GET', `/nodes/${revoked}`, { orgId });
    expect(node.body).toMatchObject({ status: 'revoked' });
  });

  it('revokes an enrolled node’s credentials: the broker is told to delete its user and queues', async () => {
    const orgId = newOrg();
    const nodeId = newNodeId();
    const credentials = await api.enrolled((await api.createToken(orgId, { nodeId })).token);
    const response = await api.request('DELETE', `/nodes/${nodeId}`, { orgId });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'revoked', enrolled: false });
    const row = await findCredential(api.deps.dataSource, nodeId);
    expect(row).toMatchObject({ version: 2, syncedVersion: 2, revokedAt: api.deps.clock.now() });
    const operations = api.management.about(credentials.broker.username).slice(-4);
    expect(operations.map((operation) => operation.kind)).toEqual([
      'delete-user',
      'close-connections',
      'delete-queue',
      'delete-queue',
    ]);
  });

  it('is idempotent through either route', async () => {
    const orgId = newOrg();
    const nodeId = newNodeId();
    await beat(nodeId, orgId);
    const first = (await api.request('DELETE', `/nodes/${nodeId}`, { orgId })).body as Node;
    api.deps.clock.advance(1000);
    const second = await api.request('POST', `/nodes/${nodeId}/revoke`, { orgId });
    expect(second.status).toBe(200);
    expect((second.body as Node).revokedAt).toBe(first.revokedAt);
    const events = await api.deps.dataSource.query<unknown[]>(
      `SELECT 1 FROM node_events WHERE node_id = $1 AND type = 'NodeRevoked'`,
      [nodeId],
    );
    expect(events).toHaveLength(1);
  });

  it('is a 404 for an unknown node and for another organisation’s, which stays as it was', async () => {
    const orgId = newOrg();
    const nodeId = newNodeId();
    await beat(nodeId, orgId);
    for (const [method, path] of [
      ['DELETE', `/nodes/${nodeId}`],
      ['POST', `/nodes/${nodeId}/revoke`],
      ['DELETE', `/nodes/${newNodeId()}`],
    ] as const) {
      expect((await api.request(method, path, { orgId: newOrg() })).status).toBe(404);
    }
    expect((await api.request('GET', `/nodes/${nodeId}`, { orgId })).body).toMatchObject({ revokedAt: null });
  });
});
