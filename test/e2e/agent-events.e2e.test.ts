import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import { waitFor } from '../support/test-context.js';
import { useStack } from './stack.js';

const stack = useStack();
let connection: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  connection = await connect(stack.amqpUrl);
  channel = await connection.createConfirmChannel();
});
afterAll(async () => {
  await channel?.close();
  await connection?.close();
});

/** Publishes raw bytes to the agent-events exchange, as a buggy or hostile agent could. */
async function publishRaw(routingKey: string, body: Buffer | string, messageId: string = randomUUID()) {
  const names = topology(stack.prefix);
  channel.publish(names.agentEventsExchange, routingKey, Buffer.from(body), {
    contentType: 'application/json',
    messageId,
    persistent: true,
  });
  await (channel as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
}

/** A heartbeat from a node no agent runs: once its node row appears, everything before it was consumed. */
async function publishMarker(): Promise<string> {
  const nodeId = `${stack.prefix}-marker-${randomUUID().slice(0, 6)}`;
  await publishRaw(
    'AgentHeartbeat',
    JSON.stringify({
      messageId: randomUUID(),
      type: 'AgentHeartbeat',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      correlationId: 'marker',
      nodeId,
      payload: {
        nodeId,
        orgId: stack.orgId,
        agentId: 'marker',
        agentVersion: '0.0.0',
        protocolVersion: 1,
        capacity: 0,
        runningExecutions: [],
        labels: {},
      },
    }),
  );
  await waitFor(async () => (await stack.api('GET', `/api/v1/nodes/${nodeId}`)).status === 200, {
    description: `marker node ${nodeId} to be recorded`,
  });
  return nodeId;
}

describe('agent events from the broker', () => {
  it('dead-letters malformed messages with their reason and goes on with the next good one', async () => {
    await publishRaw('TaskCompleted', '{ this is not json');
    await publishRaw('TaskCompleted', JSON.stringify({ messageId: randomUUID(), type: 'TaskCompleted' }));
    await publishMarker();

    // The dead-letter store reads the queue into the database; operators see it through the API.
    const admin = await stack.tokenFor(stack.orgId, ['admin:dead-letters', 'platform:dead-letters']);
    const names = topology(stack.prefix);
    let reasons: string[] = [];
    await waitFor(
      async () => {
        const listed = await stack.api<{ items: { reason: string }[] }>(
          'GET',
          `/api/v1/admin/dead-letters?queue=${encodeURIComponent(names.agentEventsDeadLetterQueue)}&order=asc`,
          { token: admin },
        );
        reasons = listed.body.items.map((item) => item.reason);
        return reasons.length >= 2;
      },
      { description: 'two dead-lettered messages' },
    );
    expect(reasons[0]).toMatch(/not valid JSON/);
    expect(reasons[1]).toMatch(/invalid envelope/);
    expect(reasons[1]).toMatch(/occurredAt|schemaVersion|payload|nodeId/);
  });

  it('applies a duplicated TaskCompleted once: the second copy changes nothing', async () => {
    const created = await stack.api<{ id: string }>('POST', '/api/v1/tasks', {
      body: { type: 'Echo', name: 'dup', targetType: 'Service', targetId: 't', payload: { hello: 'world' } },
    });
    await stack.waitForStatus(created.body.id, ['Completed']);
    const before = await stack.api<{
      items: { type: string; messageId: string | null; executionId: string }[];
    }>('GET', `/api/v1/tasks/${created.body.id}/events`);
    const completed = before.body.items.find((e) => e.type === 'TaskCompleted')!;
    expect(completed.messageId).toBeTruthy();

    // The same messageId again, claiming a different outcome: it must be recognised and ignored.
    await publishRaw(
      'TaskCompleted',
      JSON.stringify({
        messageId: completed.messageId,
        type: 'TaskCompleted',
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        correlationId: 'dup',
        nodeId: stack.nodeId,
        payload: {
          taskId: created.body.id,
          executionId: completed.executionId,
          sequence: 2,
          exitCode: 99,
          durationMs: 1,
        },
      }),
      completed.messageId!,
    );
    await publishMarker();

    const after = await stack.api<{ items: unknown[] }>('GET', `/api/v1/tasks/${created.body.id}/events`);
    expect(after.body.items).toHaveLength(before.body.items.length);
    const execution = await stack.api<{ exitCode: number; status: string; result: unknown }>(
      'GET',
      `/api/v1/tasks/executions/${completed.executionId}`,
    );
    expect(execution.body).toMatchObject({ status: 'Completed', exitCode: 0, result: { hello: 'world' } });
    const rows = await stack.db.query(
      'SELECT count(*)::int AS n FROM processed_messages WHERE message_id = $1',
      [completed.messageId],
    );
    expect(rows.rows[0]).toEqual({ n: 1 });
  });
});
