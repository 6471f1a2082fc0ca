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

async function startBehindProxy(): Promise<{ h: AgentHarness; outage: TcpProxy }> {
  const brokerUrl = new URL(testAmqpUrl());
  const outage = (proxy = await startTcpProxy({
    host: brokerUrl.hostname,
    port: Number(brokerUrl.port || 5672),
  }));
  const proxiedUrl = new URL(brokerUrl);
  proxiedUrl.hostname = '127.0.0.1';
  proxiedUrl.port = String(outage.port);
  const h = (harness = await startAgentHarness(testAmqpUrl(), { AMQP_URL: proxiedUrl.toString() }));
  return { h, outage };
}

it('survives a broker outage: reports the work it finished meanwhile, once, and takes new work', async () => {
  const { h, outage } = await startBehindProxy();
  const during = executeTask(h.nodeId, { payload: { delayMs: 1_500 } });
  await h.send(during);
  await h.waitForReport(during.payload.executionId, 'TaskStarted');

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

it('goes on shipping logs after an outage: every line arrives or is announced, the end report names the last', async () => {
  const { h, outage } = await startBehindProxy();
  const command = executeTask(h.nodeId, {
    type: 'Command',
    payload: {
      command: [
        process.execPath,
        '-e',
        `let n = 0; const timer = setInterval(() => { console.log('line ' + ++n); if (n === 300) clearInterval(timer); }, 10);`,
      ],
    },
  });
  await h.send(command);
  const { executionId } = command.payload;
  await waitFor(() => h.logChunksOf(executionId).length > 0, { description: 'the first log chunk' });
  outage.cut();
  await waitFor(() => outage.refused >= 2, { description: 'the agent to try to reconnect twice' });
  outage.restore();

  const end = await h.waitForReport(executionId, 'TaskCompleted', 20_000);
  expect(end).toMatchObject({ lastLogSeq: 300 });
  // The end report waits for the log at most 2 s: when the broker came back later than that, the
  // rest of the log may arrive after it (the control plane keeps lines that come after the end).
  const chunksOf = () => h.logChunksOf(executionId).map((chunk) => chunk.message.payload);
  await waitFor(() => chunksOf().some((chunk) => chunk.lines.at(-1)?.seq === 300), {
    timeoutMs: 20_000,
    description: 'the last line',
  });
  const chunks = chunksOf();
  const received = new Set(chunks.flatMap((chunk) => chunk.lines.map((line) => line.seq)));
  // A chunk caught by the cut is sent again after the reconnect (the control plane stores a seq
  // once) or, if that fails too, announced as dropped by the next one.
  const announced = chunks.reduce((sum, chunk) => sum + chunk.droppedBytes, 0);
  const missing = Array.from({ length: 300 }, (_, i) => i + 1).filter((seq) => !received.has(seq));
  expect(announced).toBe(missing.reduce((sum, seq) => sum + `line ${seq}`.length, 0));
  expect(received.has(300)).toBe(true);
});
