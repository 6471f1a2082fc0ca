import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AgentCredentials } from '@meridian/contracts/api/enrollment';
import { startAgent, type AgentProcess } from '../../../test/support/processes.js';
import { failOnLeakedProcesses, testAmqpUrl } from '../../../test/support/test-context.js';
import { enrollCommand } from '../cli/enroll-command.js';
import type { CliIo } from '../cli/cli-io.js';
import { rotateCredentialsCommand } from '../cli/rotate-credentials-command.js';
import { readSettings } from '../config.js';
import { startAgentHarness, type AgentHarness } from '../testing/agent-harness.js';
import { CommandSigner } from '../testing/command-signer.js';
import { executeTask } from '../testing/commands.js';
import { startScriptedAgentApi, type ScriptedAgentApi } from '../testing/scripted-agent-api.js';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { credentialsAtStart } from './credentials-at-start.js';
import { readCredentialsFile, writeCredentialsFile } from './credentials-file.js';

failOnLeakedProcesses();
afterAll(removeDataDirs);

const stubs: ScriptedAgentApi[] = [];
let harness: AgentHarness | undefined;
const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop('SIGTERM')));
  await harness?.dispose();
  harness = undefined;
  await Promise.all(stubs.splice(0).map((api) => api.close()));
});

const credentials = (): AgentCredentials => ({
  nodeId: 'edge-7',
  orgId: 'acme',
  topologyPrefix: 'meridian',
  broker: { username: 'meridian.node.edge-7', password: 'first-password' },
  signingKeys: [new CommandSigner().publicKey],
  labels: { region: 'eu' },
  issuedAt: new Date().toISOString(),
});

async function api(): Promise<ScriptedAgentApi> {
  const started = await startScriptedAgentApi(credentials());
  stubs.push(started);
  return started;
}

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('npm run agent:enroll', () => {
  it('exchanges the token for credentials, stored 0600, and says how to start the agent', async () => {
    const cp = await api();
    const dataDir = join(temporaryDataDir(), 'agent');
    const io = capture();
    const code = await enrollCommand(['--token', cp.token, '--url', cp.url, '--data-dir', dataDir], {}, io);

    expect(code).toBe(0);
    const file = join(dataDir, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readCredentialsFile(file)).toMatchObject({
      ...cp.credentials,
      controlPlaneUrl: cp.url,
      enrolledAt: expect.any(String) as unknown,
    });
    expect(io.stdout.join('\n')).toContain(`enrolled node edge-7 of organisation acme`);
    expect(io.stdout.join('\n')).toContain(`AGENT_DATA_DIR=${dataDir}`);
    expect(io.stdout.join('\n')).not.toContain('first-password');
    expect(cp.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/agent/enroll',
      body: { token: cp.token, protocolVersion: 2, agentVersion: '0.1.0' },
    });
  });

  it('takes the token and URL from ENROLLMENT_TOKEN and CONTROL_PLANE_URL', async () => {
    const cp = await api();
    const dataDir = temporaryDataDir();
    const env = { ENROLLMENT_TOKEN: cp.token, CONTROL_PLANE_URL: cp.url, AGENT_DATA_DIR: dataDir };
    expect(await enrollCommand([], env, capture())).toBe(0);
    expect(readCredentialsFile(join(dataDir, 'credentials.json'))?.nodeId).toBe('edge-7');
  });

  it('reports a refused token and writes nothing', async () => {
    const cp = await api();
    const dataDir = temporaryDataDir();
    const io = capture();
    const code = await enrollCommand(
      ['--token', 'mte_wrong', '--url', cp.url, '--data-dir', dataDir],
      {},
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/enrollment failed: .*401: the enrollment token is not valid/);
    expect(readCredentialsFile(join(dataDir, 'credentials.json'))).toBeUndefined();
  });

  it('does not replace existing credentials without --force', async () => {
    const cp = await api();
    const dataDir = temporaryDataDir();
    const args = ['--token', cp.token, '--url', cp.url, '--data-dir', dataDir];
    expect(await enrollCommand(args, {}, capture())).toBe(0);
    const io = capture();
    expect(await enrollCommand(args, {}, io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('enrolled already. Pass --force');
    expect(cp.requestsTo('/api/v1/agent/enroll')).toBe(1);
  });

  it('says when the control plane cannot be reached', async () => {
    const cp = await api();
    await cp.close();
    const io = capture();
    const args = ['--token', 'mte_x', '--url', cp.url, '--data-dir', temporaryDataDir()];
    expect(await enrollCommand(args, {}, io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('cannot reach the control plane');
  });

  it.each([[[]], [['--token', 'mte_x']], [['--url', 'http://cp']], [['--bogus']]])(
    'refuses usage %o',
    async (args) => {
      const io = capture();
      expect(await enrollCommand(args, {}, io)).toBe(2);
      expect(io.stderr.join('\n')).toContain('usage: npm run agent:enroll');
    },
  );
});

describe('npm run agent:rotate-credentials', () => {
  async function enrolled() {
    const cp = await api();
    const dataDir = temporaryDataDir();
    expect(
      await enrollCommand(['--token', cp.token, '--url', cp.url, '--data-dir', dataDir], {}, capture()),
    ).toBe(0);
    return { cp, dataDir, file: join(dataDir, 'credentials.json') };
  }

  it('authenticates with the current password and stores the new one, the identity unchanged', async () => {
    const { cp, dataDir, file } = await enrolled();
    const before = readCredentialsFile(file);
    const io = capture();
    expect(await rotateCredentialsCommand(['--data-dir', dataDir], {}, io)).toBe(0);

    const rotate = cp.requests.find((r) => r.path === '/api/v1/agent/credentials/rotate');
    const basic = Buffer.from('meridian.node.edge-7:first-password').toString('base64');
    expect(rotate?.authorization).toBe(`Basic ${basic}`);
    const after = readCredentialsFile(file);
    expect(after?.broker.password).toBe(cp.credentials.broker.password);
    expect(after?.broker.password).not.toBe('first-password');
    expect(after).toMatchObject({ nodeId: 'edge-7', orgId: 'acme', enrolledAt: before?.enrolledAt });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(io.stdout.join('\n')).toContain('uses it from its next reconnect');
  });

  it('leaves the file as it was when the control plane refuses', async () => {
    const { dataDir, file } = await enrolled();
    const stored = readCredentialsFile(file);
    if (!stored) throw new Error('no file');
    writeCredentialsFile(file, { ...stored, broker: { ...stored.broker, password: 'revoked-one' } });
    const before = readFileSync(file, 'utf8');
    const io = capture();
    expect(await rotateCredentialsCommand(['--data-dir', dataDir], {}, io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/rotation failed: .*401/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses an answer that names another node', async () => {
    const { cp, dataDir, file } = await enrolled();
    const before = readFileSync(file, 'utf8');
    cp.credentials = { ...cp.credentials, nodeId: 'edge-8' };
    const io = capture();
    expect(await rotateCredentialsCommand(['--data-dir', dataDir], {}, io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('another nodeId');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('says to enroll first when there is no credentials file', async () => {
    const io = capture();
    expect(await rotateCredentialsCommand(['--data-dir', temporaryDataDir()], {}, io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('enroll the agent first');
  });
});

describe('ENROLLMENT_TOKEN at first start', () => {
  const logger = pino({ level: 'silent' });
  const options = { logger, agentVersion: '0.1.0', hostname: 'box', retryDelayMs: 10 };

  it('enrolls once, stores the credentials, and uses the stored ones from then on', async () => {
    const cp = await api();
    const env = { ENROLLMENT_TOKEN: cp.token, CONTROL_PLANE_URL: cp.url, AGENT_DATA_DIR: temporaryDataDir() };
    const first = await credentialsAtStart(readSettings(env), options);
    expect(first).toMatchObject({ nodeId: 'edge-7', controlPlaneUrl: cp.url });
    const again = await credentialsAtStart(readSettings(env), options);
    expect(again).toEqual(first);
    expect(cp.requestsTo('/api/v1/agent/enroll')).toBe(1);
  });

  it('retries while the control plane is unreachable, never after a refusal', async () => {
    const cp = await api();
    const refused = {
      ENROLLMENT_TOKEN: 'mte_wrong',
      CONTROL_PLANE_URL: cp.url,
      AGENT_DATA_DIR: temporaryDataDir(),
    };
    await expect(credentialsAtStart(readSettings(refused), options)).rejects.toThrow(/401/);
    expect(cp.requestsTo('/api/v1/agent/enroll')).toBe(1);

    await cp.close();
    const unreachable = { ...refused, AGENT_DATA_DIR: temporaryDataDir() };
    await expect(credentialsAtStart(readSettings(unreachable), { ...options, attempts: 3 })).rejects.toThrow(
      /cannot reach/,
    );
  });

  it('without a token nor a file: development mode (no credentials)', async () => {
    expect(
      await credentialsAtStart(readSettings({ AGENT_DATA_DIR: temporaryDataDir() }), options),
    ).toBeUndefined();
  });

  it('a real agent process enrolls at first start, runs signed work, and does not enroll again on restart', async () => {
    const h = (harness = await startAgentHarness(
      testAmqpUrl(),
      {},
      { inProcessAgent: false, enrolled: true },
    ));
    const cp = h.enrolled?.controlPlane;
    if (!h.enrolled || !cp) throw new Error('the harness did not enroll');
    const dataDir = temporaryDataDir();
    const start = async () => {
      const agent = await startAgent({
        amqpUrl: testAmqpUrl(),
        prefix: h.prefix,
        nodeId: h.nodeId,
        orgId: 'org-test',
        env: { AGENT_DATA_DIR: dataDir, ENROLLMENT_TOKEN: cp.token, CONTROL_PLANE_URL: cp.url },
      });
      agents.push(agent);
      return agent;
    };
    const first = await start();
    await first.waitForLog('enrolled with the control plane; credentials stored');
    const command = executeTask(h.nodeId);
    await h.send(command);
    await h.waitForReport(command.payload.executionId, 'TaskCompleted', 10_000);

    await first.stop('SIGTERM');
    agents.splice(agents.indexOf(first), 1);
    await start();
    const next = executeTask(h.nodeId);
    await h.send(next);
    await h.waitForReport(next.payload.executionId, 'TaskCompleted', 10_000);
    expect(cp.requestsTo('/api/v1/agent/enroll')).toBe(1);
  });
});
