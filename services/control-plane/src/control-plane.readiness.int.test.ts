import { pino } from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterEach, describe, expect, it } from 'vitest';
import { topology } from '@meridian/contracts/topology';
import { startTcpProxy, type TcpProxy } from '../../../agent/src/testing/tcp-proxy.js';
import {
  deleteBrokerObjects,
  testAmqpUrl,
  uniquePrefix,
  useTestDatabase,
  waitFor,
} from '../../../test/support/test-context.js';
import { loadConfig } from './config.js';
import { startControlPlane, type RunningControlPlane } from './control-plane.js';
import type { NotReadyProblem } from './http/health/health.routes.js';

const database = useTestDatabase();
let running: RunningControlPlane | undefined;
let proxy: TcpProxy | undefined;
let prefix = '';

afterEach(async () => {
  proxy?.restore();
  await running?.stop();
  await proxy?.close();
  await deleteBrokerObjects(testAmqpUrl(), prefix);
  running = proxy = undefined;
});

async function start(amqpUrl: string): Promise<string> {
  prefix = uniquePrefix();
  const config = loadConfig({
    DATABASE_URL: database.url,
    AMQP_URL: amqpUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    TOPOLOGY_PREFIX: prefix,
  });
  running = await startControlPlane(config, pino({ level: 'silent' }));
  return `http://127.0.0.1:${running.port}/readyz`;
}

async function readiness(url: string): Promise<{ status: number; type: string; body: unknown }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.json(),
  };
}

describe('/readyz of a running control plane', () => {
  it('is not ready while the broker connection is down, naming it and every consumer, and ready again when it returns', async () => {
    const broker = new URL(testAmqpUrl());
    proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    const proxied = new URL(broker);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const url = await start(proxied.toString());
    await waitFor(async () => (await readiness(url)).status === 200, { description: 'ready' });

    proxy.cut();
    const down = await waitFor(
      async () => {
        const answer = await readiness(url);
        return answer.status === 503 ? answer : undefined;
      },
      { description: 'not ready' },
    );
    expect(down.type).toContain('application/problem+json');
    const problem = down.body as NotReadyProblem;
    expect(problem).toMatchObject({ type: '/problems/not-ready', status: 503 });
    for (const name of ['rabbitmq', 'consumer:agent-events', 'consumer:logs', 'consumer:live-logs']) {
      expect(problem.checks[name]?.status).toBe('Unhealthy');
      expect(problem.detail).toContain(name);
    }
    expect(problem.checks['postgres']?.status).toBe('Healthy');

    proxy.restore();
    await waitFor(async () => (await readiness(url)).status === 200, {
      timeoutMs: 15_000,
      description: 'ready again after the broker returned',
    });
  });

  it('is not ready while one consumer cannot consume though the connection is up', async () => {
    const url = await start(testAmqpUrl());
    await waitFor(async () => (await readiness(url)).status === 200, { description: 'ready' });
    await running?.stop();
    running = undefined;

    // A queue of that name with other arguments: the consumer's declaration fails (PRECONDITION_FAILED)
    // and it retries with backoff, while the connection and the other consumers are fine.
    const names = topology(prefix);
    const admin = new Connection({ url: testAmqpUrl() });
    try {
      await admin.queueDelete({ queue: names.agentEventsQueue });
      await admin.queueDeclare({
        queue: names.agentEventsQueue,
        durable: true,
        arguments: { 'x-queue-type': 'classic' },
      });
      const config = loadConfig({
        DATABASE_URL: database.url,
        AMQP_URL: testAmqpUrl(),
        HOST: '127.0.0.1',
        PORT: '0',
        TOPOLOGY_PREFIX: prefix,
      });
      running = await startControlPlane(config, pino({ level: 'silent' }));
      const again = `http://127.0.0.1:${running.port}/readyz`;
      const down = await waitFor(
        async () => {
          const answer = await readiness(again);
          const problem = answer.body as NotReadyProblem;
          // Wait until everything else is up, so that the one failing check is the consumer.
          return answer.status === 503 && problem.checks['consumer:logs']?.status === 'Healthy'
            ? problem
            : undefined;
        },
        { description: 'only the agent-events consumer down' },
      );
      const unhealthy = Object.entries(down.checks)
        .filter(([, check]) => check.status === 'Unhealthy')
        .map(([name]) => name);
      expect(unhealthy).toEqual(['consumer:agent-events']);
      expect(down.detail).toBe('not ready: consumer:agent-events is down');

      // Once the queue can be declared, the consumer's next attempt (within ~2 s) subscribes.
      await admin.queueDelete({ queue: names.agentEventsQueue });
      await waitFor(async () => (await readiness(again)).status === 200, {
        timeoutMs: 15_000,
        description: 'ready once the consumer consumes',
      });
    } finally {
      await admin.close();
    }
  });
});
