import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { formatLogs, startAgent, type AgentProcess } from '../../test/support/processes.js';
import { failOnLeakedProcesses, testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { cancelTask, executeTask } from './testing/commands.js';
import { removeDataDirs, temporaryDataDir } from './testing/data-dir.js';
import { isProcessGone, liveProcessesInGroup } from './testing/processes.js';
import { startTcpProxy, type TcpProxy } from './testing/tcp-proxy.js';

// kill -9 of a real agent process (tsx and node: its whole process group, not the tasks' groups,
// which are groups of their own) and a restart on the same AGENT_DATA_DIR and NODE_ID.
failOnLeakedProcesses();
afterAll(removeDataDirs);

let harness: AgentHarness | undefined;
let proxy: TcpProxy | undefined;
const agents: AgentProcess[] = [];

afterEach(async () => {
  proxy?.restore();
  await proxy?.close();
  proxy = undefined;
  await Promise.all(agents.splice(0).map((agent) => agent.stop('SIGTERM')));
  await harness?.dispose();
  harness = undefined;
});

async function setup() {
  const h = (harness = await startAgentHarness(testAmqpUrl(), {}, { inProcessAgent: false }));
  const dataDir = temporaryDataDir();
  const work = temporaryDataDir();
  const start = async (amqpUrl = testAmqpUrl()) => {
    const agent = await startAgent({
      amqpUrl,
      prefix: h.prefix,
      nodeId: h.nodeId,
      orgId: 'org-test',
      env: { AGENT_DATA_DIR: dataDir, LOG_LEVEL: 'debug' },
    });
    agents.push(agent);
    return agent;
  };
  const killHard = async (agent: AgentProcess) => {
    process.kill(-agent.pid, 'SIGKILL');
    await agent.exited;
    agents.splice(agents.indexOf(agent), 1);
  };
  return { h, dataDir, work, start, killHard };
}

/** Appends one line to `effects` (the effect counted), then waits for the test to create `release`. */
function effectThenWait(work: string, extra = '') {
  const effects = join(work, 'effects');
  const release = join(work, 'release');
  const script = `echo ran >> ${effects}; echo "effect done"; while [ ! -e ${release} ]; do sleep 0.05; done; echo "released" ${extra}`;
  return { effects, release, payload: { command: script, shell: true } };
}

const effectCount = (effects: string) =>
  existsSync(effects) ? readFileSync(effects, 'utf8').split('\n').filter(Boolean).length : 0;

it('after kill -9 and a restart, adopts the still-running program: its effect happens once, one outcome', async () => {
  const { h, work, start, killHard } = await setup();
  const first = await start();
  const { effects, release, payload } = effectThenWait(work);
  const command = executeTask(h.nodeId, { type: 'Command', payload });
  const { executionId } = command.payload;
  await h.send(command);
  const started = await h.waitForReport(executionId, 'TaskStarted', 10_000);
  await waitFor(() => effectCount(effects) === 1, { description: 'the effect' });

  await killHard(first);
  expect(isProcessGone(started.pid as number)).toBe(false);
  const second = await start();
  await second.waitForLog('after a restart: adopting', { timeoutMs: 10_000 });
  writeFileSync(release, '');

  const completed = await h
    .waitForReport(executionId, 'TaskCompleted', 15_000)
    .catch((error: unknown) => Promise.reject(new Error(`${String(error)}\n${formatLogs(second)}`)));
  expect(completed).toMatchObject({ exitCode: 0 });
  expect((completed.output as { stdout: string }).stdout).toBe('effect done\nreleased\n');
  // The broker redelivered the ExecuteTask the dead agent had not acked: acked, not run again.
  await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  await second.waitForLog('duplicate ExecuteTask acked');
  expect(effectCount(effects)).toBe(1);
  expect(h.reportsOf(executionId)).toEqual(['TaskAccepted:0', 'TaskStarted:1', 'TaskCompleted:2']);
  // The live log goes on where the dead agent left it: each line once, numbered 1, 2 across both.
  expect(completed.lastLogSeq).toBe(2);
  const lines = () => h.logChunksOf(executionId).flatMap((chunk) => chunk.message.payload.lines);
  await waitFor(() => lines().some((line) => line.seq === 2), { description: 'the last log line' });
  expect(new Set(lines().map((line) => `${line.seq}:${line.text}`))).toEqual(
    new Set(['1:effect done', '2:released']),
  );
});

it('reports a program that finished while the agent was down, without running it again', async () => {
  const { h, work, dataDir, start, killHard } = await setup();
  const first = await start();
  const { effects, release, payload } = effectThenWait(work, '; exit 3');
  const command = executeTask(h.nodeId, { type: 'Command', payload });
  const { executionId } = command.payload;
  await h.send(command);
  await h.waitForReport(executionId, 'TaskStarted', 10_000);
  await waitFor(() => effectCount(effects) === 1, { description: 'the effect' });

  await killHard(first);
  writeFileSync(release, '');
  const status = join(dataDir, 'executions', executionId, 'status');
  await waitFor(() => existsSync(status) && statSync(status).size > 0, {
    description: 'the program to end and its wrapper to record the status',
  });
  await start();

  const failed = await h.waitForReport(executionId, 'TaskFailed', 15_000);
  expect(failed).toMatchObject({ exitCode: 3, error: 'exited with code 3', retryable: false });
  await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  expect(effectCount(effects)).toBe(1);
  expect(h.reportsOf(executionId)).toEqual(['TaskAccepted:0', 'TaskStarted:1', 'TaskFailed:2']);
  // Once confirmed, the execution's files are removed.
  await waitFor(() => !existsSync(join(dataDir, 'executions', executionId)), {
    description: 'the execution directory removed',
  });
});

it('keeps what the broker did not confirm in the spool across a kill -9: sent after the restart', async () => {
  const { h, work, dataDir, start, killHard } = await setup();
  const brokerUrl = new URL(testAmqpUrl());
  proxy = await startTcpProxy({ host: brokerUrl.hostname, port: Number(brokerUrl.port || 5672) });
  const proxied = new URL(brokerUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const first = await start(proxied.toString());
  const { effects, release, payload } = effectThenWait(work);
  const command = executeTask(h.nodeId, { type: 'Command', payload });
  const { executionId } = command.payload;
  await h.send(command);
  await h.waitForReport(executionId, 'TaskStarted', 10_000);

  proxy.cut();
  writeFileSync(release, '');
  const spooled = () =>
    readdirSync(join(dataDir, 'spool'))
      .filter((name) => name.endsWith('.jsonl'))
      .some((name) => readFileSync(join(dataDir, 'spool', name), 'utf8').includes('"TaskCompleted"'));
  await waitFor(spooled, { timeoutMs: 15_000, description: 'the end report in the spool' });
  await killHard(first);
  proxy.restore();
  await start();

  await h.waitForReport(executionId, 'TaskCompleted', 15_000);
  await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  expect(effectCount(effects)).toBe(1);
  // Sent from the spool and again from the journal: the same message (one messageId), which the
  // control plane stores once.
  const ends = h.observed.filter(
    (o) => o.message.type !== 'AgentHeartbeat' && o.message.payload.executionId === executionId,
  );
  expect(
    new Set(ends.filter((o) => o.message.type === 'TaskCompleted').map((o) => o.message.messageId)).size,
  ).toBe(1);
  expect(ends.some((o) => o.message.type === 'TaskFailed' || o.message.type === 'TaskCancelled')).toBe(false);
  const lines = h.logChunksOf(executionId).flatMap((chunk) => chunk.message.payload.lines);
  expect(new Set(lines.map((line) => `${line.seq}:${line.text}`))).toEqual(
    new Set(['1:effect done', '2:released']),
  );
});

it('obeys a cancel for a program it adopted after a restart: the whole group goes', async () => {
  const { h, work, start, killHard } = await setup();
  const first = await start();
  const { effects, payload } = effectThenWait(work);
  const command = executeTask(h.nodeId, { type: 'Command', payload });
  const { executionId } = command.payload;
  await h.send(command);
  const started = await h.waitForReport(executionId, 'TaskStarted', 10_000);
  await waitFor(() => effectCount(effects) === 1, { description: 'the effect' });
  await killHard(first);
  const second = await start();
  await second.waitForLog('after a restart: adopting', { timeoutMs: 10_000 });

  await h.send(cancelTask(h.nodeId, command.payload, 2));
  const cancelled = await h.waitForReport(executionId, 'TaskCancelled', 10_000);
  expect(cancelled).toMatchObject({ reason: 'cancelled by a test' });
  await waitFor(() => liveProcessesInGroup(started.pid as number).length === 0, {
    description: 'the group gone',
  });
  expect(h.reportsOf(executionId)).toEqual(['TaskAccepted:0', 'TaskStarted:1', 'TaskCancelled:2']);
  expect(effectCount(effects)).toBe(1);
});
