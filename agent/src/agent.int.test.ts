import { afterEach, describe, expect, it } from 'vitest';
import { testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { cancelTask, executeTask } from './testing/commands.js';
import { isProcessGone } from './testing/processes.js';

let harness: AgentHarness | undefined;

async function start(env: Record<string, string> = {}): Promise<AgentHarness> {
  harness = await startAgentHarness(testAmqpUrl(), { ORG_ID: 'org-test', ...env });
  return harness;
}

afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe('agent against a real broker', () => {
  it('runs an Echo task: Accepted, Started, Completed with sequences 0, 1, 2', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { payload: { hello: 'world' } });
    await h.send(command);
    const completed = await h.waitForReport(command.payload.executionId, 'TaskCompleted');

    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
    expect(completed).toMatchObject({ exitCode: 0, result: { hello: 'world' } });
    const report = h.observed.find((o) => o.message.type === 'TaskCompleted');
    expect(report).toMatchObject({
      routingKey: 'TaskCompleted',
      message: { correlationId: command.correlationId, nodeId: h.nodeId },
      properties: {
        type: 'TaskCompleted',
        messageId: report?.message.messageId,
        correlationId: command.correlationId,
        contentType: 'application/json',
        deliveryMode: 2,
      },
    });
    await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'the command to be acked' });
  });

  it('runs `echo hello` as a Command and captures its output', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['echo', 'hello'] } });
    await h.send(command);
    const completed = await h.waitForReport(command.payload.executionId, 'TaskCompleted');

    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
    expect(typeof h.payloadOf(command.payload.executionId, 'TaskStarted')?.pid).toBe('number');
    expect(completed).toMatchObject({
      exitCode: 0,
      output: { stdout: 'hello\n', stderr: '', truncatedBytes: 0 },
    });
  });

  it('fails an unknown task type, naming the types it handles', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { type: 'Teleport' });
    await h.send(command);
    const failed = await h.waitForReport(command.payload.executionId, 'TaskFailed');

    expect(h.reportsOf(command.payload.executionId)).toEqual(['TaskAccepted:0', 'TaskFailed:1']);
    expect(failed).toMatchObject({
      error:
        'unknown task type "Teleport"; this agent handles: Command, HealthCheck, Echo, ServerStart, ServerStop, ServerRestart, ServerCommand, ServerStatus, ServerLogs, Backup, Restore, ServerUpdate, ModInstall, FileTransfer, Custom',
      retryable: false,
    });
  });

  it('cancels a running `sleep 30` with SIGTERM: TaskCancelled and the process is gone', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['sleep', '30'] } });
    await h.send(command);
    const { pid } = (await h.waitForReport(command.payload.executionId, 'TaskStarted')) as { pid: number };

    // A grace period that outlasts the test: the process can only have gone by SIGTERM.
    await h.send(cancelTask(h.nodeId, command.payload, 3600));
    const cancelled = await h.waitForReport(command.payload.executionId, 'TaskCancelled');

    expect(cancelled).toMatchObject({ reason: 'cancelled by a test', exitCode: null });
    expect(isProcessGone(pid)).toBe(true);
    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCancelled:2',
    ]);
  });

  it('reports a task cancelled before its ExecuteTask arrived without running it', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['sleep', '30'] } });
    await h.send(cancelTask(h.nodeId, command.payload));
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskCancelled');
    expect(h.reportsOf(command.payload.executionId)).toEqual(['TaskCancelled:0']);
  });

  it('survives malformed commands and runs a good one after them', async () => {
    const h = await start();
    await h.sendRaw('work', Buffer.from('{ this is not json'));
    await h.sendRaw('work', Buffer.from(JSON.stringify({ type: 'ExecuteTask', payload: {} })));
    await h.sendRaw('control', Buffer.from([0xff, 0x00, 0x13]));
    const command = executeTask(h.nodeId);
    await h.send(command);

    await h.waitForReport(command.payload.executionId, 'TaskCompleted');
    // Rejected without requeue: nothing is left to loop on.
    await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
  });

  it('runs a redelivered ExecuteTask only once', async () => {
    const h = await start();
    const command = executeTask(h.nodeId, { payload: { delayMs: 300 } });
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskStarted');
    await h.send(command); // while it runs
    await h.waitForReport(command.payload.executionId, 'TaskCompleted');
    await h.send(command); // after it finished
    await waitFor(async () => (await h.workQueueDepth()) === 0, {
      description: 'the duplicates to be acked',
    });

    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
  });

  it('heartbeats with its capacity, labels and running executions', async () => {
    const h = await start({
      MAX_CONCURRENCY: '3',
      LABELS: 'region=eu,gpu=true',
      HEARTBEAT_INTERVAL_MS: '200',
    });
    const first = await waitFor(() => h.heartbeats()[0], { description: 'a heartbeat' });
    expect(first).toMatchObject({
      nodeId: h.nodeId,
      correlationId: first.payload.agentId,
      payload: {
        nodeId: h.nodeId,
        orgId: 'org-test',
        agentVersion: '0.1.0',
        protocolVersion: 1,
        capacity: 3,
        runningExecutions: [],
        labels: { region: 'eu', gpu: 'true' },
      },
    });
    expect(first.payload.agentId).toContain(h.nodeId);

    const command = executeTask(h.nodeId, { payload: { delayMs: 2_000 } });
    await h.send(command);
    await waitFor(
      () =>
        h.heartbeats().some((beat) => beat.payload.runningExecutions.includes(command.payload.executionId)),
      {
        description: 'a heartbeat listing the running execution',
      },
    );
  });

  it('never runs more than MAX_CONCURRENCY tasks at once', async () => {
    const h = await start({ MAX_CONCURRENCY: '2' });
    const commands = Array.from({ length: 5 }, () => executeTask(h.nodeId, { payload: { delayMs: 300 } }));
    for (const command of commands) await h.send(command);
    for (const command of commands)
      await h.waitForReport(command.payload.executionId, 'TaskCompleted', 10_000);

    let running = 0;
    let peak = 0;
    for (const { message } of h.observed) {
      if (message.type === 'TaskStarted') peak = Math.max(peak, ++running);
      if (message.type === 'TaskCompleted') running--;
    }
    expect(peak).toBe(2);
  });

  it('lets running work finish within the shutdown grace period, heartbeating "draining"', async () => {
    const h = await start({ SHUTDOWN_GRACE_SECONDS: '10', HEARTBEAT_INTERVAL_MS: '100' });
    const command = executeTask(h.nodeId, { payload: { delayMs: 800 } });
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskStarted');

    await h.agent.stop();

    expect(h.reportsOf(command.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
    const draining = h.heartbeats().filter((beat) => beat.payload.draining);
    expect(draining.length).toBeGreaterThanOrEqual(2);
    expect(draining[0]?.payload.runningExecutions).toEqual([command.payload.executionId]);
    await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'the command to be acked' });
  });

  it('drains on shutdown: a draining heartbeat, then what still runs fails retryably', async () => {
    const h = await start({ SHUTDOWN_GRACE_SECONDS: '0' });
    const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['sleep', '30'] } });
    await h.send(command);
    const { pid } = (await h.waitForReport(command.payload.executionId, 'TaskStarted')) as { pid: number };

    await h.agent.stop();

    expect(h.heartbeats().at(-1)?.payload.draining).toBe(true);
    expect(h.payloadOf(command.payload.executionId, 'TaskFailed')).toMatchObject({
      error: 'the agent shut down before the task finished',
      retryable: true,
    });
    expect(isProcessGone(pid)).toBe(true);
  });
});
