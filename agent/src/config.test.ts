import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig as loadConfigWith, readSettings } from './config.js';
import type { StoredCredentials } from './identity/credentials-file.js';

const host = { hostname: 'box', pid: 42, cwd: '/srv/agent' };
const required = { NODE_ID: 'node-1', ORG_ID: 'org-1' };
const noCredentials = () => undefined;
const loadConfig = (env: Record<string, string | undefined>, h = host) =>
  loadConfigWith(env, h, noCredentials);

const stored: StoredCredentials = {
  nodeId: 'edge-7',
  orgId: 'acme',
  topologyPrefix: 'meridian',
  broker: { username: 'meridian.node.edge-7', password: 'p@ss/word' },
  signingKeys: [{ keyId: 'k1', algorithm: 'Ed25519', publicKey: 'AAAA' }],
  labels: { region: 'eu' },
  issuedAt: '2026-01-01T00:00:00.000Z',
  controlPlaneUrl: 'https://control-plane.example:8443',
  enrolledAt: '2026-01-01T00:00:00.000Z',
};

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(required, host)).toEqual({
      identity: { mode: 'development' },
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      nodeId: 'node-1',
      orgId: 'org-1',
      agentId: 'node-1-box-42',
      maxConcurrency: 10,
      labels: {},
      topologyPrefix: 'meridian',
      heartbeatIntervalMs: 5000,
      outputMaxBytes: 65_536,
      shutdownGraceSeconds: 30,
      logFlushMs: 20,
      logBufferBytes: 1_048_576,
      dataDir: '/srv/agent/.meridian-agent/node-1',
      spoolMaxBytes: 268_435_456,
      logLevel: 'info',
      taskEnv: {},
      servers: {
        root: '/srv/agent/.meridian-agent/node-1/servers',
        backupsDir: '/srv/agent/.meridian-agent/node-1/backups',
        stateDir: '/srv/agent/.meridian-agent/node-1/server-state',
        logMaxBytes: 8 * 1024 * 1024,
        transferMaxBytes: 20 * 1024 ** 3,
        extractMaxBytes: 50 * 1024 ** 3,
        extractMaxEntries: 1_000_000,
      },
    });
  });

  it('places servers and backups where AGENT_SERVERS_ROOT and AGENT_BACKUPS_DIR say, relative to the working directory', () => {
    const config = loadConfig(
      { ...required, AGENT_SERVERS_ROOT: 'games', AGENT_BACKUPS_DIR: '/var/backups/m' },
      host,
    );
    expect(config.servers).toMatchObject({ root: '/srv/agent/games', backupsDir: '/var/backups/m' });
  });

  it.each([
    [{ MAX_CONCURRENCY: '3' }, { maxConcurrency: 3 }],
    [{ LABELS: 'region=eu, gpu=true' }, { labels: { region: 'eu', gpu: 'true' } }],
    [{ LABELS: 'empty=,,a=b=c' }, { labels: { empty: '', a: 'b=c' } }],
    [{ LABELS: '' }, { labels: {} }],
    [{ AGENT_ID: 'agent-7' }, { agentId: 'agent-7' }],
    [{ TOPOLOGY_PREFIX: 'test-1234' }, { topologyPrefix: 'test-1234' }],
    [{ HEARTBEAT_INTERVAL_MS: '250' }, { heartbeatIntervalMs: 250 }],
    [{ OUTPUT_MAX_BYTES: '1024' }, { outputMaxBytes: 1024 }],
    [{ SHUTDOWN_GRACE_SECONDS: '0' }, { shutdownGraceSeconds: 0 }],
    [{ LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    [{ LOG_FLUSH_MS: '0' }, { logFlushMs: 0 }],
    [{ LOG_BUFFER_BYTES: '65536' }, { logBufferBytes: 65_536 }],
    [{ AGENT_DATA_DIR: '/var/lib/meridian' }, { dataDir: '/var/lib/meridian' }],
    [{ AGENT_DATA_DIR: 'state' }, { dataDir: '/srv/agent/state' }],
    [{ SPOOL_MAX_BYTES: '1048576' }, { spoolMaxBytes: 1_048_576 }],
    [{ AMQP_URL: 'amqp://u:p@rabbit:5672/v' }, { amqpUrl: 'amqp://u:p@rabbit:5672/v' }],
    [
      { PATH: '/usr/bin', HOME: '/root', AMQP_URL: 'amqp://x' },
      { taskEnv: { PATH: '/usr/bin', HOME: '/root' } },
    ],
  ])('reads %o', (env, expected) => {
    expect(loadConfig({ ...required, ...env }, host)).toMatchObject(expected);
  });

  it.each([
    [{ ORG_ID: 'org-1' }, 'NODE_ID'],
    [{ NODE_ID: 'node-1' }, 'ORG_ID'],
    [{}, 'ENROLLMENT_TOKEN'],
    [{ ...required, ENROLLMENT_TOKEN: 'mte_x' }, 'CONTROL_PLANE_URL'],
    [{ ...required, CONTROL_PLANE_URL: 'ftp://cp' }, 'CONTROL_PLANE_URL'],
    [{ ...required, NODE_ID: 'node 1' }, 'NODE_ID'],
    [{ ...required, NODE_ID: '-node' }, 'NODE_ID'],
    [{ ...required, MAX_CONCURRENCY: '0' }, 'MAX_CONCURRENCY'],
    [{ ...required, MAX_CONCURRENCY: 'ten' }, 'MAX_CONCURRENCY'],
    [{ ...required, LABELS: 'region' }, 'LABELS'],
    [{ ...required, LABELS: '=eu' }, 'LABELS'],
    [{ ...required, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ...required, OUTPUT_MAX_BYTES: '10' }, 'OUTPUT_MAX_BYTES'],
    [{ ...required, LOG_FLUSH_MS: '-1' }, 'LOG_FLUSH_MS'],
    [{ ...required, LOG_BUFFER_BYTES: '1000' }, 'LOG_BUFFER_BYTES'],
  ])('refuses %o naming %s', (env, variable) => {
    expect(() => loadConfig(env, host)).toThrow(ConfigError);
    expect(() => loadConfig(env, host)).toThrow(variable);
  });
});

describe('settings before the credentials file is read', () => {
  it.each([
    [
      { ...required },
      '/srv/agent/.meridian-agent/node-1',
      '/srv/agent/.meridian-agent/node-1/credentials.json',
    ],
    [{}, '/srv/agent/.meridian-agent/default', '/srv/agent/.meridian-agent/default/credentials.json'],
    [{ AGENT_DATA_DIR: '/var/lib/m' }, '/var/lib/m', '/var/lib/m/credentials.json'],
    [
      { AGENT_DATA_DIR: '/var/lib/m', AGENT_CREDENTIALS_FILE: 'secret/c.json' },
      '/var/lib/m',
      '/srv/agent/secret/c.json',
    ],
  ])('%o: data in %s, credentials in %s', (env, dataDir, credentialsFile) => {
    expect(readSettings(env, host)).toMatchObject({ dataDir, credentialsFile });
  });

  it('takes an enrollment token with the control plane URL', () => {
    const settings = readSettings({ ENROLLMENT_TOKEN: 'mte_abc', CONTROL_PLANE_URL: 'http://cp:8080' }, host);
    expect(settings.enrollment).toEqual({ token: 'mte_abc', controlPlaneUrl: 'http://cp:8080' });
    expect(readSettings(required, host).enrollment).toBeUndefined();
  });
});

describe('enrolled mode (a credentials file)', () => {
  const enrolled = (env: Record<string, string>) => loadConfigWith(env, host, () => stored);

  it('takes node, organisation, labels, prefix and broker user from the file', () => {
    const config = enrolled({ AMQP_URL: 'amqp://guest:guest@rabbit:5672/prod' });
    expect(config).toMatchObject({
      identity: {
        mode: 'enrolled',
        credentialsFile: '/srv/agent/.meridian-agent/default/credentials.json',
        brokerUsername: 'meridian.node.edge-7',
        controlPlaneUrl: 'https://control-plane.example:8443',
        signingKeys: stored.signingKeys,
      },
      nodeId: 'edge-7',
      orgId: 'acme',
      labels: { region: 'eu' },
      topologyPrefix: 'meridian',
      agentId: 'edge-7-box-42',
    });
    // AMQP_URL gives host, port and vhost; the login is the file's.
    const url = new URL(config.amqpUrl);
    expect([url.hostname, url.port, url.pathname]).toEqual(['rabbit', '5672', '/prod']);
    expect(decodeURIComponent(url.username)).toBe('meridian.node.edge-7');
    expect(decodeURIComponent(url.password)).toBe('p@ss/word');
  });

  it('accepts NODE_ID, ORG_ID, LABELS and TOPOLOGY_PREFIX that agree with the file', () => {
    const env = { NODE_ID: 'edge-7', ORG_ID: 'acme', LABELS: 'region=eu', TOPOLOGY_PREFIX: 'meridian' };
    expect(enrolled(env).nodeId).toBe('edge-7');
  });

  it.each([
    [{ NODE_ID: 'edge-8' }, 'NODE_ID'],
    [{ ORG_ID: 'other-org' }, 'ORG_ID'],
    [{ LABELS: 'region=us' }, 'LABELS'],
    [{ TOPOLOGY_PREFIX: 'staging' }, 'TOPOLOGY_PREFIX'],
  ])('refuses to start when %o disagrees with the file', (env, variable) => {
    expect(() => enrolled(env)).toThrow(ConfigError);
    expect(() => enrolled(env)).toThrow(new RegExp(`${variable}.*enroll again`));
  });

  it("adds LABELS to the enrollment's labels", () => {
    expect(enrolled({ LABELS: 'gpu=true,region=eu' }).labels).toEqual({ region: 'eu', gpu: 'true' });
  });

  it('ignores an enrollment token once enrolled; CONTROL_PLANE_URL says where to fetch signing keys', () => {
    const config = enrolled({ ENROLLMENT_TOKEN: 'mte_again', CONTROL_PLANE_URL: 'http://cp.moved:8080' });
    expect(config.identity).toMatchObject({ mode: 'enrolled', controlPlaneUrl: 'http://cp.moved:8080' });
  });
});
