import { afterEach, expect, it } from 'vitest';
import { testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { executeTask } from './testing/commands.js';
import { isProcessGone } from './testing/processes.js';
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

it('spools while the broker is away: every report and every log line arrives once it is back, in order', async () => {
  const { h, outage } = await startBehindProxy();
  const printer = (lines: number) =>
    executeTask(h.nodeId, {
      type: 'Command',
      payload: {
        command: [
          process.execPath,
          '-e',
          `let n = 0; const timer = setInterval(() => { console.log('line ' + ++n); if (n === ${lines}) clearInterval(timer); }, 5);`,
        ],
      },
    });
  const commands = [printer(300), printer(300), printer(300)];
  for (const command of commands) await h.send(command);
  await waitFor(() => commands.every((c) => h.logChunksOf(c.payload.executionId).length > 0), {
    description: 'the first log chunks',
  });
  outage.cut();
  // The programs go on printing and end while the broker is unreachable.
  const pids = commands.map((c) => h.payloadOf(c.payload.executionId, 'TaskStarted')?.pid as number);
  await waitFor(() => pids.every(isProcessGone), { timeoutMs: 20_000, description: 'the programs to end' });
  await waitFor(() => outage.refused >= 2, { description: 'the agent to try to reconnect twice' });
  outage.restore();

  for (const command of commands) {
    const { executionId } = command.payload;
    const end = await h.waitForReport(executionId, 'TaskCompleted', 30_000);
    expect(end).toMatchObject({ lastLogSeq: 300 });
    expect(h.reportsOf(executionId)).toEqual(['TaskAccepted:0', 'TaskStarted:1', 'TaskCompleted:2']);
    const chunks = h.logChunksOf(executionId);
    // Nothing dropped: the spool's bound is far away. A chunk caught by the cut may come twice.
    expect(chunks.reduce((sum, chunk) => sum + chunk.message.payload.droppedBytes, 0)).toBe(0);
    const firstSeen: number[] = [];
    for (const chunk of chunks) {
      for (const line of chunk.message.payload.lines) {
        if (!firstSeen.includes(line.seq)) firstSeen.push(line.seq);
        expect(line.text).toBe(`line ${line.seq}`);
      }
    }
    expect(firstSeen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    // The end report follows its log.
    const endArrival = h.observed.find(
      (o) => o.message.type === 'TaskCompleted' && o.message.payload.executionId === executionId,
    )?.arrival;
    const lastLine = chunks.find((chunk) => chunk.message.payload.lines.some((line) => line.seq === 300));
    expect(lastLine?.arrival).toBeLessThan(endArrival ?? -1);
  }
});
