import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const host = { hostname: 'box', pid: 42, cwd: '/srv/agent' };
const required = { NODE_ID: 'node-1', ORG_ID: 'org-1' };

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(required, host)).toEqual({
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
    });
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
