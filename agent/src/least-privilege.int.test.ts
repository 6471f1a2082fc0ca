import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { brokerUsername } from '@meridian/contracts/security/node-identity';
import { topology } from '@meridian/contracts/topology';
import { startPrivateRabbitMq, type PrivateRabbitMq } from '../../test/support/private-rabbitmq.js';
import { uniquePrefix, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { CommandSigner } from './testing/command-signer.js';
import { executeTask } from './testing/commands.js';
import { removeDataDirs } from './testing/data-dir.js';

// An enrolled agent with the least rights of the design (docs/security.md): a broker user that may
// configure nothing, write only to the agent-events and logs exchanges under routing keys that start
// with its own name, and read only its own two queues. On a private broker with the management API.
let broker: PrivateRabbitMq | undefined;
let harness: AgentHarness | undefined;

beforeAll(async () => {
  broker = await startPrivateRabbitMq({ management: true });
});
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});
afterAll(async () => {
  await broker?.destroy();
  removeDataDirs();
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the control plane's credentials sync sets up for one node, through the management API. */
async function provisionNodeUser(managementUrl: string, prefix: string, nodeId: string) {
  const base = new URL(managementUrl);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = base.password = '';
  const put = async (path: string, body: unknown) => {
    const response = await fetch(new URL(path, base), {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
  };
  const names = topology(prefix);
  const username = brokerUsername(prefix, nodeId);
  const password = randomBytes(18).toString('base64url');
  const user = encodeURIComponent(username);
  await put(`/api/users/${user}`, { password, tags: '' });
  await put(`/api/permissions/%2F/${user}`, {
    configure: '^$',
    write: `^(${escape(names.agentEventsExchange)}|${escape(names.logsExchange)})$`,
    read: `^(${escape(names.nodeWorkQueue(nodeId))}|${escape(names.nodeControlQueue(nodeId))})$`,
  });
  await put(`/api/topic-permissions/%2F/${user}`, {
    exchange: names.agentEventsExchange,
    write: '^{username}\\.[A-Za-z0-9_-]+$',
    read: '^$',
  });
  await put(`/api/topic-permissions/%2F/${user}`, {
    exchange: names.logsExchange,
    write: '^{username}\\.logs$',
    read: '^$',
  });
  return { username, password };
}

it('works with the least rights: declares nothing, consumes its queues, publishes under its own name', async () => {
  if (!broker?.managementUrl) throw new Error('the private broker has no management API');
  const prefix = uniquePrefix();
  const nodeId = `node-${randomBytes(4).toString('hex')}`;
  const login = await provisionNodeUser(broker.managementUrl, prefix, nodeId);
  const h = (harness = await startAgentHarness(
    broker.url,
    { HEARTBEAT_INTERVAL_MS: '200' },
    { enrolled: { broker: login }, prefix, nodeId },
  ));
  if (!h.enrolled) throw new Error('the harness did not enroll');

  const command = executeTask(nodeId, { type: 'Command', payload: { command: ['echo', 'least'] } });
  await h.send(command);
  await h.waitForReport(command.payload.executionId, 'TaskCompleted', 10_000);
  const completed = h.observed.find((o) => o.message.type === 'TaskCompleted');
  expect(completed).toMatchObject({
    routingKey: `${login.username}.TaskCompleted`,
    properties: { userId: login.username },
  });
  expect(h.logChunksOf(command.payload.executionId)[0]).toMatchObject({
    routingKey: `${login.username}.logs`,
    properties: { userId: login.username },
  });
  const beat = await waitFor(() => h.heartbeats()[0], { description: 'a heartbeat' });
  expect(beat.payload).toMatchObject({ nodeId, orgId: 'org-test', protocolVersion: 2 });

  // A refusal is reported under its own name too.
  const forged = executeTask(nodeId);
  const signed = new CommandSigner('rogue').sign(forged);
  await h.publish('work', signed.body, { headers: signed.headers, messageId: forged.messageId });
  expect(await h.waitForRejection(forged.messageId)).toMatchObject({ code: 'unknown-key' });
  expect(h.rejections[0]?.routingKey).toBe(`${login.username}.CommandRejected`);
});
