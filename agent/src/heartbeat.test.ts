import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentHeartbeat } from '@meridian/contracts/messages/agent-heartbeat';
import type { ServerReport } from '@meridian/contracts/task-types/server-spec';
import { Heartbeat } from './heartbeat.js';

const identity = {
  nodeId: 'node-1',
  orgId: 'org-1',
  agentId: 'agent-1',
  agentVersion: '0.1.0',
  protocolVersion: 1,
  capacity: 2,
  labels: {},
};

function report(state: ServerReport['state']): ServerReport {
  return {
    serverId: 'srv-1',
    state,
    pid: null,
    startedAt: null,
    lastExitCode: null,
    restarts: 0,
    changedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** A heartbeat whose publishes stay unconfirmed until the test confirms them. */
function heartbeatWithManualConfirms() {
  const sent: AgentHeartbeat[] = [];
  const confirms: Array<() => void> = [];
  let servers = [report('starting')];
  const heartbeat = new Heartbeat({
    publish: (message) => {
      sent.push(message.payload as AgentHeartbeat);
      return new Promise<void>((resolve) => confirms.push(resolve));
    },
    intervalMs: 60_000,
    identity,
    runningExecutions: () => [],
    handlerTypes: ['Echo', 'ServerStart'],
    servers: () => servers,
    logger: pino({ level: 'silent' }),
  });
  return { heartbeat, sent, confirms, setServers: (next: ServerReport[]) => (servers = next) };
}

describe('Heartbeat', () => {
  it('carries the handler types and the servers as they are at each beat', async () => {
    const { heartbeat, sent, confirms, setServers } = heartbeatWithManualConfirms();
    const first = heartbeat.beat();
    setServers([report('running')]);
    const second = heartbeat.beat();
    for (const confirm of confirms) confirm();
    await Promise.all([first, second]);
    expect(sent.map((beat) => [beat.handlerTypes, beat.servers?.map((s) => s.state)])).toEqual([
      [['Echo', 'ServerStart'], ['starting']],
      [['Echo', 'ServerStart'], ['running']],
    ]);
  });

  it('coalesces beats asked for while one is unconfirmed into one more, with the latest state', async () => {
    const { heartbeat, sent, confirms, setServers } = heartbeatWithManualConfirms();
    heartbeat.beatSoon();
    setServers([report('running')]);
    heartbeat.beatSoon();
    setServers([report('stopping')]);
    heartbeat.beatSoon();
    expect(sent).toHaveLength(1);
    confirms[0]?.();
    await expect.poll(() => sent.length).toBe(2);
    expect(sent[1]?.servers?.[0]?.state).toBe('stopping');
    confirms[1]?.();
    heartbeat.beatSoon();
    await expect.poll(() => sent.length).toBe(3);
    confirms[2]?.();
  });
});
