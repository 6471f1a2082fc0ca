import { afterEach, expect, it } from 'vitest';
import { testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { executeTask } from './testing/commands.js';
import { startTcpProxy, type TcpProxy } from './testing/tcp-proxy.js';

let harness: AgentHarness | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  proxy?.restore();
  await harness?.dispose();
  await proxy?.close();
  harness = proxy = undefined;
});

it('survives a broker outage: reports the work it finished meanwhile, once, and takes new work', async () => {
  const brokerUrl = new URL(testAmqpUrl());
  proxy = await startTcpProxy({ host: brokerUrl.hostname, port: Number(brokerUrl.port || 5672) });
  const proxiedUrl = new URL(brokerUrl);
  proxiedUrl.hostname = '127.0.0.1';
  proxiedUrl.port = String(proxy.port);
  const h = (harness = await startAgentHarness(testAmqpUrl(), { AMQP_URL: proxiedUrl.toString() }));

  const during = executeTask(h.nodeId, { payload: { delayMs: 1_500 } });
  await h.send(during);
  await h.waitForReport(during.payload.executionId, 'TaskStarted');

  const outage = proxy;
  outage.cut();
  await waitFor(() => outage.refused >= 2, { description: 'the agent to try to reconnect twice' });
  expect(h.payloadOf(during.payload.executionId, 'TaskCompleted')).toBeUndefined();
  outage.restore();

  await h.waitForReport(during.payload.executionId, 'TaskCompleted', 20_000);
  const after = executeTask(h.nodeId);
  await h.send(after);
  await h.waitForReport(after.payload.executionId, 'TaskCompleted', 20_000);

  // The broker redelivered the command it never saw acked; the agent recognised it and acked it.
  await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  expect(h.reportsOf(during.payload.executionId)).toEqual([
    'TaskAccepted:0',
    'TaskStarted:1',
    'TaskCompleted:2',
  ]);
});
