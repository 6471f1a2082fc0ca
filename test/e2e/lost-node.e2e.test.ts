import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topology } from '@meridian/contracts/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type AgentProcess } from '../support/processes.js';
import { deleteBrokerObjects, testAmqpUrl, waitFor } from '../support/test-context.js';
import { commandTask, useStack } from './stack.js';

/** Small on purpose: agents beat every 500 ms here, so that 5 s of silence is ten missed beats. */
const NODE_LOST_AFTER_SECONDS = 5;
const AGENT_ENV = { HEARTBEAT_INTERVAL_MS: '500' };

const stack = useStack({
  capacity: 4,
  env: { NODE_LOST_AFTER_SECONDS: String(NODE_LOST_AFTER_SECONDS) },
  agentEnv: AGENT_ENV,
});
let second: AgentProcess | undefined;
const secondNodeId = () => `${stack.prefix}-second`;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'meridian-lost-node-'));
});
afterAll(async () => {
  await writeFile(join(folder, 'release'), '');
  await rm(folder, { recursive: true, force: true });
  await second?.stop();
  const names = topology(stack.prefix);
  await deleteBrokerObjects(testAmqpUrl(), stack.prefix, {
    queues: [names.nodeWorkQueue(secondNodeId()), names.nodeControlQueue(secondNodeId())],
    exchanges: [],
  });
});

interface ExecutionRow {
  id: string;
  task_id: string;
  node_id: string;
  status: string;
}

async function executionsOf(taskIds: readonly string[]): Promise<ExecutionRow[]> {
  const { rows } = await stack.db.query<ExecutionRow>(
    `SELECT id, task_id, node_id, status FROM executions WHERE task_id = ANY($1::uuid[]) ORDER BY attempt`,
    [taskIds],
  );
  return rows;
}

describe('a node lost for good', () => {
  it('finishes its tasks on the second node, keeps a pinned one for it, and tells it to cancel when it returns', async () => {
    // Every task runs until the test releases it (the killed agent's programs outlive it, and
    // end then too).
    const release = join(folder, 'release');
    const create = async (extra: Record<string, unknown> = {}) => {
      const { status, body } = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
        body: commandTask(`while [ ! -e '${release}' ]; do sleep 0.1; done`, extra),
      });
      expect(status).toBe(201);
      return body.id;
    };
    // Only the first node is up: everything runs there.
    const free = [await create(), await create(), await create()];
    const pinned = await create({ nodeId: stack.nodeId });
    for (const id of [...free, pinned]) await stack.waitForStatus(id, ['Running']);

    second = await startAgent({
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      nodeId: secondNodeId(),
      orgId: stack.orgId,
      maxConcurrency: 4,
      env: AGENT_ENV,
    });
    await waitFor(
      async () =>
        (await stack.api<{ status: string }>('GET', `/api/v1/nodes/${secondNodeId()}`)).body.status ===
        'online',
      { timeoutMs: 20_000, description: 'the second node to be online' },
    );

    await stack.agent.stop('SIGKILL');
    const killedAt = Date.now();
    await writeFile(release, '');
    for (const id of free) await stack.waitForStatus(id, ['Completed'], 60_000);
    const recoveredMs = Date.now() - killedAt;
    expect(recoveredMs).toBeLessThan(60_000);

    const lostNode = await stack.api<{ status: string; lostAt: string | null }>(
      'GET',
      `/api/v1/nodes/${stack.nodeId}`,
    );
    expect(lostNode.body).toMatchObject({ status: 'lost', lostAt: expect.any(String) as unknown });
    const freeRuns = await executionsOf(free);
    for (const id of free) {
      const runs = freeRuns.filter((run) => run.task_id === id);
      expect(runs[0]).toMatchObject({ node_id: stack.nodeId, status: 'AgentLost' });
      expect(runs.at(-1)).toMatchObject({ node_id: secondNodeId(), status: 'Completed' });
    }
    // The pinned task waits for its node, even with the second node free.
    const waiting = await stack.api<{ status: string }>('GET', `/api/v1/tasks/${pinned}`);
    expect(waiting.body.status).toBe('Retrying');
    expect((await executionsOf([pinned])).every((run) => run.node_id === stack.nodeId)).toBe(true);

    // The node comes back: the pinned task runs there; what it was running before is cancelled.
    stack.agent = await startAgent({
      amqpUrl: stack.amqpUrl,
      prefix: stack.prefix,
      nodeId: stack.nodeId,
      orgId: stack.orgId,
      maxConcurrency: 4,
      env: AGENT_ENV,
    });
    await stack.waitForStatus(pinned, ['Completed'], 30_000);
    const pinnedRuns = await executionsOf([pinned]);
    expect(pinnedRuns.map((run) => run.status)).toEqual(['AgentLost', 'Completed']);
    expect(pinnedRuns.every((run) => run.node_id === stack.nodeId)).toBe(true);

    const given = [...freeRuns.filter((run) => run.status === 'AgentLost'), pinnedRuns[0]!];
    for (const run of given) {
      await stack.agent.waitForLog(
        (entry) => entry['executionId'] === run.id && /cancel/.test(String(entry['msg'])),
        { timeoutMs: 20_000 },
      );
    }
    for (const id of free) {
      expect((await stack.api<{ status: string }>('GET', `/api/v1/tasks/${id}`)).body.status).toBe(
        'Completed',
      );
    }
    const lost = await executionsOf([...free, pinned]);
    for (const run of given) expect(lost.find((row) => row.id === run.id)?.status).toBe('AgentLost');
  });
});
