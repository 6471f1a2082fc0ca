import { afterAll, afterEach, expect, it } from 'vitest';
import { startAgent, type AgentProcess } from '../../../test/support/processes.js';
import { failOnLeakedProcesses, testAmqpUrl, waitFor } from '../../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from '../testing/agent-harness.js';
import { executeTask } from '../testing/commands.js';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { GAME_SERVER_READY_PATTERN, writeGameServer } from '../testing/game-server.js';
import { isProcessGone } from '../testing/processes.js';

// A real agent process hosting a real server, killed with SIGKILL and started again on the same
// AGENT_DATA_DIR: the server (a process group of its own) runs on and the new agent adopts it.
failOnLeakedProcesses();
afterAll(removeDataDirs);

let harness: AgentHarness | undefined;
const agents: AgentProcess[] = [];
const serverPids: number[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop('SIGTERM')));
  for (const pid of serverPids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Stopped by the test.
    }
  }
  await harness?.dispose();
  harness = undefined;
});

it('a server outlives a kill -9 of its agent: still running, still known, its console still answers', async () => {
  const h = (harness = await startAgentHarness(testAmqpUrl(), {}, { inProcessAgent: false }));
  const dataDir = temporaryDataDir();
  const argv = writeGameServer(temporaryDataDir());
  const start = async (agentId: string) => {
    const agent = await startAgent({
      amqpUrl: testAmqpUrl(),
      prefix: h.prefix,
      nodeId: h.nodeId,
      orgId: 'org-test',
      // Beats on the interval only once a minute: those seen in between were sent for a state change.
      env: { AGENT_DATA_DIR: dataDir, AGENT_ID: agentId, LOG_LEVEL: 'debug', HEARTBEAT_INTERVAL_MS: '60000' },
    });
    agents.push(agent);
    return Object.assign(agent, { agentId });
  };
  const runTask = async (type: string, payload: Record<string, unknown>) => {
    const command = executeTask(h.nodeId, { type, target: { type: 'Server', id: 'mc-1' }, payload });
    await h.send(command);
    return h.waitForReport(command.payload.executionId, 'TaskCompleted', 20_000);
  };
  const serverInHeartbeats = (agent: { agentId: string }, state: string) =>
    h
      .heartbeats()
      .filter((beat) => beat.payload.agentId === agent.agentId)
      .flatMap((beat) => beat.payload.servers ?? [])
      .find((server) => server.serverId === 'mc-1' && server.state === state);

  const first = await start('agent-before');
  const started = await runTask('ServerStart', {
    spec: { argv, readyPattern: GAME_SERVER_READY_PATTERN, stop: { type: 'command', command: 'stop' } },
  });
  const { pid } = started.result as { pid: number };
  serverPids.push(pid);
  await waitFor(() => serverInHeartbeats(first, 'running'), {
    description: 'a heartbeat listing the server running',
  });
  expect(h.heartbeats().at(-1)?.payload.handlerTypes).toEqual(
    expect.arrayContaining([
      'Command',
      'ServerStart',
      'ServerStop',
      'ServerCommand',
      'ServerLogs',
    ]) as unknown,
  );

  process.kill(-first.pid, 'SIGKILL');
  await first.exited;
  agents.splice(agents.indexOf(first), 1);
  expect(isProcessGone(pid)).toBe(false);

  const second = await start('agent-after');
  await second.waitForLog('after a restart: adopting the server still running', { timeoutMs: 10_000 });
  const adopted = await waitFor(() => serverInHeartbeats(second, 'running'), {
    description: 'the new agent listing the server running',
  });
  expect(adopted).toMatchObject({ pid, restarts: 0 });

  const said = await runTask('ServerCommand', { command: 'say still here', windowMs: 2_000 });
  expect(said.result).toEqual({ lines: ['[Server] still here'], truncated: false });
  const stopped = await runTask('ServerStop', {});
  expect(stopped.result).toEqual({ exitCode: 0, exitSignal: null, stoppedBy: 'graceful' });
  expect(isProcessGone(pid)).toBe(true);
  // Sent at once on the state changes, not on the (one-minute) interval.
  await waitFor(() => serverInHeartbeats(second, 'stopped'), {
    description: 'a heartbeat listing it stopped',
  });
  expect(serverInHeartbeats(second, 'stopping')).toBeDefined();
});
