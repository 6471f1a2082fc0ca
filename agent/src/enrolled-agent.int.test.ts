import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@meridian/contracts/messages/envelope';
import { testAmqpUrl, waitFor } from '../../test/support/test-context.js';
import { readCredentialsFile, writeCredentialsFile } from './identity/credentials-file.js';
import { startAgentHarness, type AgentHarness } from './testing/agent-harness.js';
import { CommandSigner } from './testing/command-signer.js';
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

type Enrolled = AgentHarness & { enrolled: NonNullable<AgentHarness['enrolled']> };

async function startEnrolled(
  env: Record<string, string> = {},
  options: Parameters<typeof startAgentHarness>[2] = {},
): Promise<Enrolled> {
  const h = (harness = await startAgentHarness(testAmqpUrl(), env, { ...options, enrolled: true }));
  if (!h.enrolled) throw new Error('the harness did not enroll');
  return h as Enrolled;
}

/** Log records of a test's agent, parsed, as pino writes them. */
function capturedLogger() {
  const records: Array<{ level: number; msg: string }> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void records.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, records };
}

describe('an enrolled agent', () => {
  it('publishes as its broker user, with routing keys under its username, and heartbeats protocol 2', async () => {
    const h = await startEnrolled({ HEARTBEAT_INTERVAL_MS: '200' });
    const command = executeTask(h.nodeId, { type: 'Command', payload: { command: ['echo', 'signed'] } });
    await h.send(command);
    const completed = await h.waitForReport(command.payload.executionId, 'TaskCompleted');
    expect(completed).toMatchObject({ exitCode: 0, output: { stdout: 'signed\n' } });

    const reports = h.observed.filter(
      (o) =>
        o.message.type !== 'AgentHeartbeat' && o.message.payload.executionId === command.payload.executionId,
    );
    expect(reports.map((o) => o.routingKey)).toEqual([
      'guest.TaskAccepted',
      'guest.TaskStarted',
      'guest.TaskCompleted',
    ]);
    expect(reports.every((o) => o.properties.userId === 'guest')).toBe(true);
    const chunks = h.logChunksOf(command.payload.executionId);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((c) => c.routingKey === 'guest.logs' && c.properties.userId === 'guest')).toBe(true);

    const beat = await waitFor(() => h.heartbeats()[0], { description: 'a heartbeat' });
    expect(beat.payload).toMatchObject({
      nodeId: h.nodeId,
      orgId: 'org-test',
      protocolVersion: PROTOCOL_VERSION,
      labels: {},
    });
    const beatSeen = h.observed.find((o) => o.message === beat);
    expect(beatSeen).toMatchObject({ routingKey: 'guest.AgentHeartbeat', properties: { userId: 'guest' } });
  });

  it('fetches the signing keys when a command comes with a new key, saves them, and asks at most once per 30 s', async () => {
    const h = await startEnrolled();
    const rolled = new CommandSigner('test-key-2');
    h.enrolled.controlPlane.signingKeys = [h.enrolled.signer.publicKey, rolled.publicKey];

    const command = executeTask(h.nodeId);
    const signed = rolled.sign(command);
    await h.publish('work', signed.body, { headers: signed.headers, messageId: command.messageId });
    await h.waitForReport(command.payload.executionId, 'TaskCompleted');
    expect(h.enrolled.controlPlane.requestsTo('/api/v1/agent/signing-keys')).toBe(1);
    expect(readCredentialsFile(h.enrolled.credentialsFile)?.signingKeys.map((k) => k.keyId)).toEqual([
      'test-key-1',
      'test-key-2',
    ]);

    // Another unknown key right after: refused without asking again.
    const rogue = executeTask(h.nodeId);
    const forged = new CommandSigner('test-key-3').sign(rogue);
    await h.publish('work', forged.body, { headers: forged.headers, messageId: rogue.messageId });
    expect(await h.waitForRejection(rogue.messageId)).toMatchObject({ code: 'unknown-key' });
    expect(h.enrolled.controlPlane.requestsTo('/api/v1/agent/signing-keys')).toBe(1);
    // The old key still counts (both are listed).
    const old = executeTask(h.nodeId);
    await h.send(old);
    await h.waitForReport(old.payload.executionId, 'TaskCompleted');
  });

  it('reads its credentials file at each reconnect: a refused login is logged with a hint and retried until the file is right', async () => {
    const brokerUrl = new URL(testAmqpUrl());
    const outage = (proxy = await startTcpProxy({
      host: brokerUrl.hostname,
      port: Number(brokerUrl.port || 5672),
    }));
    const proxied = new URL(brokerUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(outage.port);
    const { logger, records } = capturedLogger();
    const h = await startEnrolled({ AMQP_URL: proxied.toString() }, { logger });
    const file = h.enrolled.credentialsFile;
    const stored = readCredentialsFile(file);
    if (!stored) throw new Error('no credentials file');

    // A password the broker does not know (as after a rotation the file missed), then a reconnect.
    writeCredentialsFile(file, { ...stored, broker: { ...stored.broker, password: 'not-the-password' } });
    outage.cut();
    outage.restore();
    const refused = await waitFor(() => records.find((r) => r.level === 50 && r.msg.includes('refused')), {
      timeoutMs: 10_000,
      description: 'the refused login logged as an error',
    });
    expect(refused.msg).toContain('agent:rotate-credentials');

    // The right password in the file: the next attempt logs in, and work goes on.
    writeCredentialsFile(file, stored);
    const command = executeTask(h.nodeId);
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskCompleted', 20_000);
  });

  it('survives a broker outage: a redelivered command it accepted is recognised, not refused as a replay', async () => {
    const brokerUrl = new URL(testAmqpUrl());
    const outage = (proxy = await startTcpProxy({
      host: brokerUrl.hostname,
      port: Number(brokerUrl.port || 5672),
    }));
    const proxied = new URL(brokerUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(outage.port);
    const h = await startEnrolled({ AMQP_URL: proxied.toString() });
    const during = executeTask(h.nodeId, { payload: { delayMs: 1_500 } });
    await h.send(during);
    await h.waitForReport(during.payload.executionId, 'TaskStarted');

    outage.cut();
    await waitFor(() => outage.refused >= 2, { description: 'the agent to try to reconnect twice' });
    outage.restore();

    await h.waitForReport(during.payload.executionId, 'TaskCompleted', 20_000);
    await waitFor(async () => (await h.workQueueDepth()) === 0, { description: 'an empty work queue' });
    expect(h.reportsOf(during.payload.executionId)).toEqual([
      'TaskAccepted:0',
      'TaskStarted:1',
      'TaskCompleted:2',
    ]);
    expect(h.rejections).toEqual([]);
  });
});
